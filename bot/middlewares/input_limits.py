"""Before any handler: oversized input is refused, and a command leaves a dialogue's step."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
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


# Commands that belong to the step a person is in: /cancel ends it, /close ends a ticket.
STEP_COMMANDS = frozenset({"cancel", "close"})


class CommandLeavesStep(BaseMiddleware):
    """A command typed in the middle of a dialogue (say /shop while the bot waits for a
    password) leaves that step and runs, as in any app: nobody is stuck until they find
    Cancel. A password therefore never starts with "/" (see SecretText)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Message) and event.text and event.text.startswith("/"):
            command = event.text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
            state: FSMContext | None = data.get("state")
            if command not in STEP_COMMANDS and state is not None and data.get("raw_state"):
                await state.clear()
                data["raw_state"] = None
        return await handler(event, data)
