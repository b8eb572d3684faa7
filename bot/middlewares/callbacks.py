"""Every callback query gets an answer, so no button is left spinning."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswerMiddleware


class AnswerCallbackMiddleware(CallbackAnswerMiddleware):
    """aiogram's middleware, except that a failing handler leaves the answer to the error router.

    The stock middleware answers with an empty text even when the handler raised, and then the
    error router can no longer show its alert.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = self.construct_callback_answer(
            properties=get_flag(data, "callback_answer"),
        )
        result = await handler(event, data)
        if not answer.disabled and not answer.answered:
            await self.answer(event, answer)
        return result
