"""Async filters: aiogram runs synchronous filters in a thread, which costs a hop per update."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject


class PrivateChat(Filter):
    """Only the user's own chat with the bot (callbacks from inline messages have no chat)."""

    async def __call__(self, event: TelegramObject) -> bool:
        if isinstance(event, Message):
            return event.chat.type == "private"
        if isinstance(event, CallbackQuery):
            message = event.message
            return message is None or message.chat.type == "private"
        return False


class HasText(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.text is not None
