"""Flood control: a 429 from Telegram is waited out and the call repeated, within limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates, Response, TelegramMethod
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Repeats a call that got "retry after N" when N is short enough to wait for in a handler.

    getUpdates is left to the poller, which has its own backoff.
    """

    def __init__(
        self,
        *,
        attempts: int = 3,
        max_wait: float = 10.0,
        on_flood_wait: Callable[[], None] | None = None,
    ) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.on_flood_wait = on_flood_wait  # counts each 429 (metrics)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if self.on_flood_wait is not None:
                    self.on_flood_wait()
                if (
                    isinstance(method, GetUpdates)
                    or attempt >= self.attempts
                    or exc.retry_after > self.max_wait
                ):
                    raise
                log.warning(
                    "event=flood_wait method=%s retry_after=%s attempt=%d",
                    method.__api_method__,
                    exc.retry_after,
                    attempt,
                )
                await asyncio.sleep(exc.retry_after)
                attempt += 1
