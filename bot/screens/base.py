"""A screen, and showing it: edit the message a button sits on, or send a new one."""

from __future__ import annotations

import logging
from typing import NamedTuple

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

log = logging.getLogger(__name__)


class Screen(NamedTuple):
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def unmodified(error: TelegramBadRequest) -> bool:
    """Telegram refused an edit that would change nothing: the message already shows it."""
    return "message is not modified" in error.message


async def show(
    event: Message | CallbackQuery, text: str | Screen, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A button edits its own message in place; a command gets a new message."""
    if isinstance(text, Screen):
        text, markup = text
    if isinstance(event, Message):
        await event.answer(text, reply_markup=markup)
        return
    message = event.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if unmodified(exc):
                return
            # Too old to edit, or gone: fall through and send a fresh one.
            log.info("event=edit_failed user_id=%s reason=%s", event.from_user.id, exc.message)
    await event.bot.send_message(event.from_user.id, text, reply_markup=markup)  # type: ignore[union-attr]
