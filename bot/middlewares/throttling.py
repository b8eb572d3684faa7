"""Per-user flood control: a token bucket in front of every handler.

A person tapping or typing at human speed never meets it. An auto-clicker or a script does: it
gets one localized notice per burst, and the rest of the burst is dropped before it reaches a
handler or the database, without a single call to Telegram. Payment messages always pass.

The buckets live in the process (:class:`TokenBuckets`), or, with replicas, in Redis
(:class:`SharedBuckets` over ``bot/storage/shared_limits.py``), so a person's burst is counted
once whichever replica each update reaches.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.i18n import Translator

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class TokenBuckets:
    """``capacity`` updates at once, refilled at ``rate`` per second, per key."""

    def __init__(
        self,
        capacity: float,
        rate: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.capacity = capacity
        self.rate = rate
        self.monotonic = monotonic
        self.max_keys = max_keys
        self._buckets: dict[int, _Bucket] = {}

    def take(self, key: int) -> tuple[bool, bool]:
        """(allowed, first refusal of this burst)."""
        now = self.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= self.capacity:
            # The burst is over only once the bucket has refilled: a flood that goes on at the
            # refill rate still gets one notice, not one per token.
            bucket.warned = False
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True, False
        first = not bucket.warned
        bucket.warned = True
        return False, first

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely: they hold no information. If every one
        is busy (many ids at once), drop the least recently seen: the table never grows past
        ``max_keys``."""
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k].updated)
            for key in oldest[: len(self._buckets) - self.max_keys + 1]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)

    async def admit(self, key: int) -> tuple[bool, bool]:
        return self.take(key)


class SharedBucketStore(Protocol):
    """Where replicas count together (Redis): a token from ``bucket``, or a refusal."""

    async def take(self, bucket: str, capacity: float, rate: float) -> tuple[bool, bool]: ...


class SharedBuckets:
    """The same buckets counted across replicas. If the store cannot be reached, updates pass:
    flood control is a courtesy, never a reason to stop serving people."""

    def __init__(
        self, store: SharedBucketStore, capacity: float, rate: float, *, prefix: str = ""
    ) -> None:
        self.store = store
        self.capacity = capacity
        self.rate = rate
        self.prefix = prefix  # buckets of another limit on the same store (``confirm:``)

    async def admit(self, key: int) -> tuple[bool, bool]:
        try:
            return await self.store.take(f"{self.prefix}{key}", self.capacity, self.rate)
        except Exception as exc:
            log.warning("event=flood_store_unreachable error=%s", type(exc).__name__)
            return True, False


class FloodGate(Protocol):
    async def admit(self, key: int) -> tuple[bool, bool]:
        """(allowed, first refusal of this burst) for one update from ``key``."""
        ...


def _is_money(event: TelegramObject) -> bool:
    """Telegram's payment messages are never dropped, however busy the payer has been."""
    return isinstance(event, Message) and (
        event.successful_payment is not None or event.refunded_payment is not None
    )


class ThrottlingMiddleware(BaseMiddleware):
    def __init__(self, buckets: FloodGate) -> None:
        self.buckets = buckets

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: User | None = data.get("event_from_user")
        if sender is None or _is_money(event):
            return await handler(event, data)
        allowed, first_refusal = await self.buckets.admit(sender.id)
        if allowed:
            return await handler(event, data)
        if first_refusal:
            log.warning("event=throttled user_id=%s", sender.id)
            t: Translator = data["t"]
            if isinstance(event, CallbackQuery):
                await event.answer(t("throttled"), show_alert=True)
            elif isinstance(event, Message) and event.chat.type == "private":
                await event.answer(t("throttled"))
        # The rest of the burst costs no call to Telegram at all: a dropped tap's spinner
        # stops by itself on the client.
        return None
