"""Notices are written as outbox rows in the unit of work of the event that causes them.

A row holds a message key and its parameters; the sender (``bot/runtime/notices.py``)
renders it in the recipient's language when it goes out. Money and moments are kept as plain
JSON and formatted at that time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.domain.models import Notice
from bot.domain.money import Money
from bot.storage.database import Database, retry_on_conflict
from bot.storage.uow import UnitOfWork

# Kinds a user can switch off with /notifications, in the order the screen lists them.
CASHBACK_AVAILABLE = "cashback_available"
ORDER_REMINDER = "order_reminder"
GIFT_EXPIRED = "gift_expired"
SWITCHABLE = (CASHBACK_AVAILABLE, ORDER_REMINDER, GIFT_EXPIRED)
# Always sent: money a person is owed an answer about, and the operators' work.
WITHDRAWAL = "withdrawal"
ORDER = "order"  # the buyer's bill and every change of their order
ACCOUNT = "account"  # a password reset or a refund by an operator
SUPPORT = "support"  # an operator's reply
RECEIPT = "receipt"  # a spend the person confirmed in the Mini App, recorded in the chat
OPERATORS = "operators"
# The notice that says what an update did to the money (drawn by bot/screens/steps.py).
AFTER_MONEY = "error-after-money"
# What operators did for a person: if it cannot reach them, the operators' chat is told.
OPERATORS_WATCH = frozenset({WITHDRAWAL, ORDER, ACCOUNT, SUPPORT})

# A failed send waits 2 s, 4 s, 8 s... but never more than an hour.
BACKOFF_BASE = timedelta(seconds=2)
BACKOFF_MAX = timedelta(hours=1)


def encode(params: dict[str, Any]) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, DomainError):  # a refusal, worded in the reader's language
            encoded[name] = {"error": value.key, "params": encode(value.params)}
        elif isinstance(value, Money):
            encoded[name] = {"money": value.minor, "currency": value.currency}
        elif isinstance(value, datetime):
            encoded[name] = {"moment": value.isoformat()}
        else:
            encoded[name] = value
    return encoded


def decode(params: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, dict) and "error" in value:
            decoded[name] = DomainError(str(value["error"]), **decode(value["params"]))
        elif isinstance(value, dict) and "money" in value:
            decoded[name] = Money(int(value["money"]), str(value["currency"]))
        elif isinstance(value, dict) and "moment" in value:
            decoded[name] = datetime.fromisoformat(str(value["moment"]))
        else:
            decoded[name] = value
    return decoded


async def write_notice(
    uow: UnitOfWork,
    chat_id: int,
    kind: str,
    template: str,
    now: datetime,
    *,
    card: str | None = None,
    follows_card: bool = False,
    key: str | None = None,
    **params: Any,
) -> bool:
    """Queue a notice in the caller's unit of work; False when the user switched it off or
    ``key`` queued it before.

    ``card`` names the record the message shows (``order:12``); with ``follows_card`` the
    message is that record's card in the chat: the last one sent is edited, not sent again.
    """
    return await uow.outbox.add(
        chat_id,
        kind,
        template,
        encode(params),
        now,
        card=card,
        follows_card=follows_card,
        key=key,
    )


async def write_to_operators(
    uow: UnitOfWork, chat_id: int | None, template: str, now: datetime, **options: Any
) -> bool:
    """Queue a notice for the operators' chat in the caller's unit of work; nothing when no
    chat is set (SUPPORT_CHAT_ID). ``options`` as for :func:`write_notice`."""
    if chat_id is None:
        return False
    return await write_notice(uow, chat_id, OPERATORS, template, now, **options)


class NoticeService:
    """What a user wants to hear about, and the queue as operators see it."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def muted(self, user_id: int) -> frozenset[str]:
        async with self.db.read() as uow:
            return await uow.outbox.muted(user_id)

    @retry_on_conflict()
    async def toggle(self, user_id: int, kind: str) -> frozenset[str]:
        """Switch one kind on or off; the kinds now muted."""
        if kind not in SWITCHABLE:
            raise ValueError(f"not a switchable notice kind: {kind!r}")
        async with self.db.unit_of_work() as uow:
            muted = await uow.outbox.muted(user_id)
            await uow.outbox.set_muted(user_id, kind, kind not in muted)
            return await uow.outbox.muted(user_id)

    # --- the queue, as the sender works it -------------------------------------------------

    @retry_on_conflict()
    async def claim(self, limit: int, lease: timedelta, chat_gap: timedelta) -> list[Notice]:
        """Due rows leased to the caller for ``lease``, in order; a chat that got a notice less
        than ``chat_gap`` ago waits."""
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            return await uow.outbox.claim(now, now + lease, limit, now - chat_gap)

    @retry_on_conflict()
    async def tell_steps(
        self, chat_id: int, update_id: int, steps: Sequence[tuple[str, str]], *, kind: str
    ) -> None:
        """What an update did to the money, told once (keyed by the update) when its own
        answer could not be shown: by the errors router or the inbox, whichever comes first."""
        await self.tell(
            chat_id,
            AFTER_MONEY,
            key=f"after-money:{update_id}",
            kind=kind,
            steps=[list(step) for step in steps],
        )

    async def tell(
        self,
        chat_id: int,
        template: str,
        *,
        key: str,
        kind: str = OPERATORS,
        card: str | None = None,
        follows_card: bool = False,
        **params: Any,
    ) -> bool:
        """A notice that reports no change of our own (a payment that matched nothing, a
        parked update, a reconciliation): queued once per ``key``, however often it is told."""
        async with self.db.unit_of_work() as uow:
            return await write_notice(
                uow,
                chat_id,
                kind,
                template,
                self.clock.now(),
                card=card,
                follows_card=follows_card,
                key=key,
                **params,
            )

    async def card_message(self, chat_id: int, card: str) -> int | None:
        async with self.db.read() as uow:
            return await uow.outbox.card_message(chat_id, card)

    @retry_on_conflict()
    async def mark_sent(self, ids: Sequence[int], message_id: int | None = None) -> None:
        async with self.db.unit_of_work() as uow:
            await uow.outbox.mark_sent(ids, self.clock.now(), message_id)

    @retry_on_conflict()
    async def release(self, ids: Sequence[int], delay: timedelta = timedelta(0)) -> None:
        """Unsent and not failed: due again after ``delay``; the attempt does not count."""
        async with self.db.unit_of_work() as uow:
            await uow.outbox.release(ids, self.clock.now() + delay)

    @retry_on_conflict()
    async def back_off(
        self, ids: Sequence[int], attempts: int, max_attempts: int, error: str
    ) -> datetime | None:
        """After a failed send: due again later, doubling the wait each attempt, or marked
        failed once ``max_attempts`` are used up (None)."""
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            if attempts >= max_attempts:
                await uow.outbox.mark_failed(ids, now, error)
                return None
            at = now + min(BACKOFF_BASE * (1 << min(max(attempts - 1, 0), 20)), BACKOFF_MAX)
            await uow.outbox.retry_later(ids, at, error)
            return at

    async def next_due(self) -> datetime | None:
        async with self.db.read() as uow:
            due: datetime | None = await uow.outbox.next_due()
        return due

    async def recent(self, limit: int = 30) -> list[tuple[Notice, str]]:
        async with self.db.read() as uow:
            return await uow.outbox.recent(limit)
