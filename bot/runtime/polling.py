"""Long polling into the durable inbox: fetch, store, then confirm.

Each ``getUpdates`` answer is stored in the inbox (one unit of work) before the next
``getUpdates`` confirms it to Telegram, so a crash at any moment loses nothing: what was not
stored is fetched again, what was stored is handled after the restart. Fetching never waits for
handling. The answer is read as plain JSON objects, so one update that aiogram cannot parse
never hides the others; the inbox parses each on its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod

from bot.runtime.inbox import Inbox
from bot.storage.errors import StorageError

log = logging.getLogger(__name__)


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """``getUpdates`` whose result stays JSON: aiogram would parse the whole batch at once."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class InboxPoller:
    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        *,
        polling_timeout: int = 25,
        allowed_updates: Sequence[str] | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.bot = bot
        self.inbox = inbox
        self.polling_timeout = polling_timeout
        self.allowed_updates = list(allowed_updates) if allowed_updates is not None else None
        self.max_backoff = max_backoff
        self.offset: int | None = None
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                updates = await self._fetch()
            except TelegramRetryAfter as exc:
                await self._pause(exc.retry_after)
                continue
            except TelegramUnauthorizedError:
                raise  # the token was revoked: no retry can help
            except (AiogramError, OSError, TimeoutError) as exc:
                # A proxy's HTML error page, a 5xx, a dropped connection: wait and fetch again.
                log.warning(
                    "event=get_updates_failed error=%s retry_in=%.1f", type(exc).__name__, backoff
                )
                await self._pause(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            if updates is None:  # stopped while waiting
                break
            if updates:
                try:
                    newest = await self.inbox.accept(updates)
                except StorageError as exc:
                    # Not stored, so not confirmed: Telegram keeps them until storage is back.
                    log.error(
                        "event=inbox_store_failed updates=%d error=%s retry_in=%.1f",
                        len(updates),
                        type(exc).__name__,
                        backoff,
                    )
                    await self._pause(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                if newest is not None:
                    self.offset = newest + 1
            backoff = 0.5
        await self._confirm()

    async def _fetch(self) -> list[dict[str, Any]] | None:
        request = GetRawUpdates(
            offset=self.offset, timeout=self.polling_timeout, allowed_updates=self.allowed_updates
        )
        fetch = asyncio.ensure_future(self.bot(request, request_timeout=self.polling_timeout + 10))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            with suppress(asyncio.CancelledError, AiogramError, OSError):
                await fetch
            return None
        return list(fetch.result())

    async def _pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _confirm(self) -> None:
        """Tell the server what is stored, so a clean restart doesn't fetch it again."""
        if self.offset is None:
            return
        with suppress(AiogramError, OSError, TimeoutError):
            await self.bot(GetRawUpdates(offset=self.offset, limit=1, timeout=0), request_timeout=5)
