"""A dialogue's Cancel button lives only on its newest prompt: earlier prompts lose theirs as
the next one comes, and the last one when the dialogue ends (done, cancelled, or left by a
command), so no stale Cancel is left to press in the chat's history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, Message, TelegramObject

from bot.keyboards.callbacks import Security, SecurityAction

PROMPTS = "prompts"  # in the dialogue's data: [chat id, message id] of prompts with Cancel
_CANCEL = Security(action=SecurityAction.CANCEL).pack()


class _Seen:
    def __init__(self) -> None:
        self.prompts: list[tuple[int, int]] = []  # sent or edited with a Cancel button
        self.touched: set[tuple[int, int]] = set()  # sent or edited at all


_SEEN: ContextVar[_Seen | None] = ContextVar("prompts_seen", default=None)


def _has_cancel(markup: object) -> bool:
    return isinstance(markup, InlineKeyboardMarkup) and any(
        button.callback_data == _CANCEL for row in markup.inline_keyboard for button in row
    )


class PromptRecorder(BaseRequestMiddleware):
    """On the Bot's session: which messages this update's handler sent or edited."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        response = await make_request(bot, method)
        seen = _SEEN.get()
        # aiogram's session hands the parsed result back (a Message for these methods).
        message: Any = response
        if seen is None or not isinstance(message, Message):
            return response
        if isinstance(method, SendMessage | EditMessageText):
            where = (message.chat.id, message.message_id)
            seen.touched.add(where)
            if _has_cancel(method.reply_markup):
                seen.prompts.append(where)
        return response


class StalePrompts(BaseMiddleware):
    """Around a message or button of a person in a dialogue: strips Cancel from the prompts
    that are no longer the current step's."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        if state is None:
            return await handler(event, data)
        earlier: list[tuple[int, int]] = []
        if data.get("raw_state"):
            earlier = [(int(c), int(m)) for c, m in (await state.get_data()).get(PROMPTS, [])]
        seen = _Seen()
        token = _SEEN.set(seen)
        try:
            result = await handler(event, data)
        finally:
            _SEEN.reset(token)
        if not earlier and not seen.prompts:
            return result
        ongoing = await state.get_state() is not None
        if ongoing and not seen.prompts:
            return result  # the same step goes on: its prompt keeps Cancel
        newest = seen.prompts[-1:] if ongoing else []
        redrawn = seen.touched - set(seen.prompts)  # edited here without Cancel already
        stale = [
            p for p in dict.fromkeys(earlier + seen.prompts) if p not in newest and p not in redrawn
        ]
        bot: Bot = data["bot"]
        for chat_id, message_id in stale:
            with suppress(TelegramAPIError):
                await bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=None
                )
        if ongoing:
            await state.update_data({PROMPTS: [list(p) for p in newest]})
        return result
