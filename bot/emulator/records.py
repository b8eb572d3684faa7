"""Records the emulator keeps that tests read: recorded calls, payment outcomes, files."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.emulator.wire import JSON, ApiError


@dataclass(eq=False)  # a mutable record: compared by identity
class Call:
    """One recorded Bot API request.

    Calls are recorded when their answer is decided, except getUpdates, which is recorded when it
    arrives (so "the bot is polling" is observable at once) and completed when it returns.
    """

    method: str
    params: JSON
    time: float
    index: int = -1  # set when recorded
    ok: bool = False
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    done: bool = False

    @property
    def error(self) -> str | None:
        return self.description if not self.ok else None


@dataclass(frozen=True)
class PaymentOutcome:
    """What happened to one ``pay_invoice``: the bot's pre-checkout answer and the charge."""

    ok: bool
    status: str  # "paid", "declined" (ok=false answer) or "expired" (no answer in time)
    pre_checkout_query_id: str
    error_message: str | None = None
    telegram_payment_charge_id: str | None = None
    provider_payment_charge_id: str | None = None
    message_id: int | None = None  # the successful_payment message
    update_id: int | None = None  # the update that carried it (the second, when sent twice)


@dataclass
class Fault:
    error: ApiError
    remaining: int


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    data: bytes

    def public(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


QueueKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Post:
    """One webhook POST as the bot's side answered it: a status, or the error's name."""

    update_id: int
    target: str
    outcome: int | str
    queue: QueueKey
    sent_at: float  # the emulator's clock when the POST started


@dataclass
class WebhookQueues:
    """Webhook delivery's state: the replica URLs, the posts made, one post in flight a queue."""

    targets: list[str] = field(default_factory=list)
    turn: int = 0
    posts: list[Post] = field(default_factory=list)
    in_flight: dict[QueueKey, asyncio.Task[None]] = field(default_factory=dict)
    client: aiohttp.ClientSession | None = None
    last_error: tuple[int, str] | None = None
