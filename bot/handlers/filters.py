"""Async filters: aiogram runs synchronous filters in a thread, which costs a hop per update."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.config import Settings
from bot.i18n import Translator


class PrivateChat(Filter):
    """Only the user's own chat with the bot.

    A button counts only when the user pressing it is the one the chat belongs to: a callback
    whose message sits in somebody else's chat is forged, and falls through to the stale-button
    alert. Callbacks from inline messages have no chat and pass.
    """

    async def __call__(self, event: TelegramObject) -> bool:
        if isinstance(event, Message):
            # Telegram always names the sender in a private chat; a message without one is
            # not something to answer.
            return (
                event.chat.type == "private"
                and event.from_user is not None
                and event.from_user.id == event.chat.id
            )
        if isinstance(event, CallbackQuery):
            message = event.message
            if message is None:
                return True
            return message.chat.type == "private" and message.chat.id == event.from_user.id
        return False


class OperatorsChat(Filter):
    """A message in the operators' chat (SUPPORT_CHAT_ID)."""

    async def __call__(self, message: Message, settings: Settings) -> bool:
        return settings.support_chat_id is not None and message.chat.id == settings.support_chat_id


PAYMENT_FIELDS = ("successful_payment", "refunded_payment")


class PaymentMessage(Filter):
    """A service message about money: ``successful_payment`` or ``refunded_payment``."""

    def __init__(self, field: str) -> None:
        if field not in PAYMENT_FIELDS:
            raise ValueError(f"not a payment's service message: {field}")
        self.field = field

    async def __call__(self, message: Message) -> bool:
        return getattr(message, self.field, None) is not None


async def refused_unless_operator(
    callback: CallbackQuery, user_id: int, settings: Settings, ops: Translator
) -> bool:
    """An operators' button pressed by someone else: answered as unknown, nothing done."""
    if user_id in settings.admin_ids:
        return False
    await callback.answer(ops("unknown-command"), show_alert=True)
    return True
