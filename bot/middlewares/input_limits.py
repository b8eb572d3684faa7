"""Oversized input is refused before any handler or conversation state sees it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

from bot.i18n import Translator

log = logging.getLogger(__name__)

# Telegram's own cap on a message; other Bot API servers may deliver more.
MAX_TEXT_LENGTH = 4096


class TextLengthMiddleware(BaseMiddleware):
    def __init__(self, max_length: int = MAX_TEXT_LENGTH) -> None:
        self.max_length = max_length

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message):
            text = event.text or event.caption or ""
            if len(text) > self.max_length and event.chat.type == "private":
                t: Translator = data["t"]
                log.info(
                    "event=text_too_long user_id=%s length=%d",
                    event.from_user.id if event.from_user else None,
                    len(text),
                )
                await event.answer(t("text-too-long"))
                return None
        return await handler(event, data)
