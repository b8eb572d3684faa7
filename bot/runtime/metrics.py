"""Prometheus metrics (``/metrics``, the text exposition format, via prometheus-client).

Two kinds of series:

- **this process**: updates received and handled, handling time, notices, 429s, lane
  takeovers. Sum them over the replicas.
- **the books**, read from the database at each scrape: the inbox's depth and oldest waiting
  update, parked updates, the outbox, payments credited and refunded. Every replica reports the
  same values: take ``max()`` over the replicas, not the sum.

Label values come from fixed sets only, never from what a user sent: an update kind Telegram
adds later is ``other``, and no callback data, text or id ever becomes a label.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.domain.clock import Clock
from bot.storage.database import Database

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "pre_checkout_query",
        "shipping_query",
        "my_chat_member",
        "chat_member",
        "message_reaction",
        "business_message",
        "channel_post",
    }
)
# Where an update's handling ended.
DONE, RETRIED, PARKED = "done", "retried", "parked"
# Where a notice's send ended.
NOTICE_OUTCOMES = ("sent", "retried", "failed", "unreachable", "flood_wait")
# Who met a 429: the update's own answer, or the notices sender.
REPLIES, NOTICES = "replies", "notices"


def update_type(kind: str) -> str:
    return kind if kind in UPDATE_TYPES else "other"


class BooksCollector(Collector):
    """What the database says, read by :meth:`refresh` before each scrape."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.values: dict[str, float] = {}

    async def refresh(self) -> None:
        async with self.db.read() as uow:
            inbox = await uow.inbox.counts()
            oldest = await uow.inbox.oldest_pending()
            waiting, failed = await uow.outbox.depth()
            (
                credited,
                credited_amount,
                refunded,
                refunded_amount,
            ) = await uow.certificates.payment_totals()
        age = 0.0 if oldest is None else (self.clock.now() - oldest).total_seconds()
        self.values = {
            "inbox_pending": inbox["pending"],
            "inbox_parked": inbox["parked"],
            "inbox_oldest": max(age, 0.0),
            "outbox_pending": waiting,
            "outbox_failed": failed,
            "credited": credited,
            "credited_amount": credited_amount,
            "refunded": refunded,
            "refunded_amount": refunded_amount,
        }

    def collect(self) -> Iterator[Metric]:
        if not self.values:
            return
        v = self.values
        yield GaugeMetricFamily(
            "giftwallet_inbox_pending", "Updates stored and not yet handled", v["inbox_pending"]
        )
        yield GaugeMetricFamily(
            "giftwallet_inbox_oldest_pending_seconds",
            "Age of the oldest update waiting to be handled",
            v["inbox_oldest"],
        )
        yield GaugeMetricFamily(
            "giftwallet_inbox_parked",
            "Updates given up on, waiting for an operator",
            v["inbox_parked"],
        )
        yield GaugeMetricFamily(
            "giftwallet_outbox_pending", "Notices waiting to be sent", v["outbox_pending"]
        )
        yield GaugeMetricFamily(
            "giftwallet_outbox_failed", "Notices that failed for good", v["outbox_failed"]
        )
        payments = CounterMetricFamily(
            "giftwallet_payments", "Telegram payments, by what happened", labels=["event"]
        )
        payments.add_metric(["credited"], v["credited"])
        payments.add_metric(["refunded"], v["refunded"])
        yield payments
        amounts = CounterMetricFamily(
            "giftwallet_payments_amount_minor",
            "Telegram payments in the ledger currency's minor units (cents)",
            labels=["event"],
        )
        amounts.add_metric(["credited"], v["credited_amount"])
        amounts.add_metric(["refunded"], v["refunded_amount"])
        yield amounts


class Metrics:
    """The process's registry (no global one): every series the bot reports."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.received = Counter(
            "giftwallet_updates_received",
            "Updates stored in the inbox by this process, by type",
            ["type"],
            registry=self.registry,
        )
        self.handled = Counter(
            "giftwallet_updates_handled",
            "Updates handled by this process, by type and outcome (done, retried, parked)",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.handling = Histogram(
            "giftwallet_update_handling_seconds",
            "Time to handle one update, by type",
            ["type"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.notices = Counter(
            "giftwallet_notices",
            "Notices this process tried to send, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.flood_waits = Counter(
            "giftwallet_telegram_429",
            "429 Too Many Requests from the Bot API, by who met it (replies, notices)",
            ["path"],
            registry=self.registry,
        )
        self.takeovers = Counter(
            "giftwallet_lane_takeovers",
            "Lanes taken over from a process whose lease lapsed",
            registry=self.registry,
        )
        for outcome in NOTICE_OUTCOMES:
            self.notices.labels(outcome)
        for path in (REPLIES, NOTICES):
            self.flood_waits.labels(path)
        self.books = BooksCollector(db, clock)
        self.registry.register(self.books)

    def received_update(self, kind: str) -> None:
        self.received.labels(update_type(kind)).inc()

    def handled_update(self, kind: str, outcome: str, started: float) -> None:
        label = update_type(kind)
        self.handled.labels(label, outcome).inc()
        self.handling.labels(label).observe(time.perf_counter() - started)

    def notice(self, outcome: str) -> None:
        self.notices.labels(outcome).inc()

    def flood_wait(self, path: str) -> None:
        self.flood_waits.labels(path).inc()

    async def render(self) -> bytes:
        await self.books.refresh()
        return generate_latest(self.registry)
