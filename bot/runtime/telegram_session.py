"""The Bot API session every Bot of the application uses."""

from __future__ import annotations

from typing import Any, ClassVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


class TelegramSession(AiohttpSession):
    """aiogram's aiohttp session, keeping the response models it parses alive.

    aiogram parses each answer as ``Response[T]``, and pydantic keeps such parametrized models
    only weakly: once the garbage collector drops one, the next call builds it again, about 3 ms
    of schema generation. A strong reference per result type makes it a dictionary lookup.
    """

    _response_types: ClassVar[dict[Any, type]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._response_types:
            self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def telegram_session(api_url: str | None) -> TelegramSession:
    if api_url:
        return TelegramSession(api=TelegramAPIServer.from_base(api_url))
    return TelegramSession()
