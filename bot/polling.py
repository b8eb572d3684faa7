"""Long polling that loses no update on a crash and still handles updates concurrently.

aiogram's default polling confirms an update (via the next getUpdates offset) while its handler
may still be running, so a crash at that moment loses it for good. Here a fetched batch is handled
completely before the next getUpdates confirms it: a crash re-delivers the whole unfinished batch,
and handlers are idempotent (payments are keyed by their charge id).

Within a batch, updates of different chats run concurrently; updates of one chat run in order, so
a conversation (FSM) sees its messages in the order the user sent them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update

log = logging.getLogger(__name__)


def _ordering_key(update: Update) -> int | str:
    """Updates with the same key must be handled one after another."""
    event: Any = update.event
    chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
    if chat is not None:
        return int(chat.id)
    user = getattr(event, "from_user", None)
    if user is not None:
        return int(user.id)
    return f"update:{update.update_id}"


class BatchPoller:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        polling_timeout: int = 25,
        allowed_updates: Sequence[str] | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
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
            except (TelegramAPIError, OSError, TimeoutError) as exc:
                log.warning(
                    "event=get_updates_failed error=%s retry_in=%.1f", type(exc).__name__, backoff
                )
                await self._pause(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = 0.5
            if updates is None:  # stopped while waiting
                break
            if updates:
                # Shielded: a stop request lets the batch finish, so its offset can be confirmed.
                await asyncio.shield(self.handle_batch(updates))
                self.offset = updates[-1].update_id + 1
        await self._confirm()

    async def _fetch(self) -> list[Update] | None:
        request = GetUpdates(
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
            with suppress(asyncio.CancelledError, TelegramAPIError, OSError):
                await fetch
            return None
        return list(fetch.result())

    async def _pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _confirm(self) -> None:
        """Tell the server what was handled, so a clean restart doesn't see it again."""
        if self.offset is None:
            return
        with suppress(TelegramAPIError, OSError, TimeoutError):
            await self.bot(GetUpdates(offset=self.offset, limit=1, timeout=0), request_timeout=5)

    async def handle_batch(self, updates: Sequence[Update]) -> None:
        lanes: dict[int | str, list[Update]] = defaultdict(list)
        for update in updates:
            lanes[_ordering_key(update)].append(update)
        await asyncio.gather(*(self._handle_lane(lane) for lane in lanes.values()))

    async def _handle_lane(self, lane: list[Update]) -> None:
        for update in lane:
            await self.handle_update(update)

    async def handle_update(self, update: Update) -> None:
        try:
            response = await self.dispatcher.feed_update(self.bot, update)
            if isinstance(response, TelegramMethod):
                await self.dispatcher.silent_call_request(self.bot, response)
        except Exception:
            # The error router answers users; this only catches what escaped it.
            log.exception("event=update_failed update_id=%s", update.update_id)
