"""The replica test: three webhook processes on PostgreSQL and Redis, fed in turn by the emulator
as a load balancer would, while one of them is SIGKILLed mid-stream and started again later.

REPLICA_USERS people (200 in CI) each send about ten updates, as people do, each once the one
before was handled: /start, /balance, a Balance tap, a Stars purchase (a quarter of the
successful_payment messages delivered twice), /help; a fifth of them pay an order (some with a
double tap on Pay, whose two presses may reach two replicas; some cancel it after), a tenth
withdraw their cashback to a saved card, pairs race to claim gifts, and an operator bills
buyers with /admin_order.

At the end: every charge credited once; every order paid at most once and refunded at most
once; every withdrawal asked once; every gift has one winner; every chat's updates were handled
in update_id order; every pre-checkout query answered within 10 s of its first delivery;
notices went out at Telegram's pace counted across all three processes; the killed process's
lanes were taken over within twice the lease; the books balance. Seeded (REPLICA_SEED), so a
failure replays.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.models import Purchase
from bot.emulator import BotAPIEmulator, PaymentOutcome
from bot.keyboards.callbacks import CashbackAction, CashbackStep, OrderAction, OrderStep
from bot.services.cards import CardService, check_number
from tests.conftest import TOKEN, WEBHOOK_SECRET, free_port, spawn_bot_process
from tests.databases import REDIS_HINT, TEST_REDIS_URL
from tests.e2e.test_crash_payments import (
    PlannedGift,
    PlannedOrder,
    _credited,
    bills_delivered,
)
from tests.e2e.test_security_dialogues import PASSWORD
from tests.unit.test_orders import Shop, usd

USERS = int(os.environ.get("REPLICA_USERS", "200"))
SEED = int(os.environ.get("REPLICA_SEED", "20261207"))
REPLICAS = 3
LEASE = 2  # seconds: LANE_LEASE of the replicas
PEOPLE = [8000 + n for n in range(USERS)]
OPERATOR = 7999
GIFTS = max(2, USERS // 10)
GIVERS = [7000 + n for n in range(GIFTS)]  # each told when their gift is claimed
PEPPER = "p" * 32  # as tests.unit.test_certificates.World hashes with
BALANCE_MAX = 10_000_000
NOTICE_RATE = 25
ANSWER_WAIT = 25.0  # a person waits this long for an answer before going on regardless
CARD_NUMBER = "2200 7000 0000 0009"
CARD = 1  # any message id: a tap on a message that is gone gets a new message


class Replicas:
    """The webhook processes and their ports; the emulator posts to each in turn."""

    def __init__(self, emulator: BotAPIEmulator, tmp_path: Path, database_url: str) -> None:
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.ports = [free_port() for _ in range(REPLICAS)]
        self.processes: list[asyncio.subprocess.Process | None] = [None] * REPLICAS
        emulator.balance_webhook([f"http://127.0.0.1:{port}/hook" for port in self.ports])

    async def start(self, index: int) -> None:
        folder = self.tmp_path / f"replica-{index}"
        folder.mkdir(exist_ok=True)
        mark = self.emulator.call_count()
        self.processes[index] = await spawn_bot_process(
            self.emulator,
            folder,
            capture=False,
            database_url=self.database_url,
            command=("webhook",),
            LOG_LEVEL="WARNING",
            WEBHOOK_URL="https://shop.example/hook",
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            WEBHOOK_PORT=str(self.ports[index]),
            REDIS_URL=TEST_REDIS_URL,
            SECRET_PEPPER=PEPPER,
            LANE_LEASE=str(LEASE),
            NOTICE_RATE=str(NOTICE_RATE),
            # What the killed process had claimed goes out this soon after (30 s by default).
            NOTICE_LEASE="4",
            ADMIN_IDS=str(OPERATOR),
            BALANCE_MAX=str(BALANCE_MAX // 100),
        )
        await self.emulator.wait_for_call("setWebhook", after=mark, timeout=60)

    def kill(self, index: int) -> int:
        process = self.processes[index]
        assert process is not None
        process.send_signal(signal.SIGKILL)
        return process.pid

    async def stop_all(self) -> None:
        for process in self.processes:
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            if process is not None:
                try:
                    await asyncio.wait_for(process.wait(), timeout=15)
                except TimeoutError:
                    process.kill()


class Handled:
    """Which updates the replicas have finished, read from the inbox every 50 ms for everyone
    who waits: a person acts again once their last update was handled, as one who reads the
    bot's answer first."""

    def __init__(self, world: Shop) -> None:
        self.world = world
        self.waiting: dict[int, asyncio.Future[None]] = {}
        self.late: list[int] = []

    async def wait(self, update_id: int) -> None:
        future = self.waiting.setdefault(update_id, asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait_for(asyncio.shield(future), ANSWER_WAIT)
        except TimeoutError:
            self.late.append(update_id)  # the person goes on; the checks say what happened

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            if not self.waiting:
                continue
            rows = await self.world.base.fetch(
                "SELECT update_id FROM inbox WHERE update_id = ANY($1::bigint[])"
                " AND done_at IS NOT NULL",
                list(self.waiting),
            )
            for (update_id,) in rows:
                future = self.waiting.pop(update_id)
                if not future.done():
                    future.set_result(None)


class Person:
    """Sends one update, then waits until it was handled (or ANSWER_WAIT passed)."""

    def __init__(self, emulator: BotAPIEmulator, handled: Handled, user: int) -> None:
        self.emulator = emulator
        self.handled = handled
        self.user = user

    async def text(self, text: str, *, wait: bool = True) -> None:
        sent = await self.emulator.send_text(self.user, text)
        if wait:
            await self.handled.wait(sent["update_id"])

    async def tap(self, data: str, *, wait: bool = True) -> None:
        query = await self.emulator.send_callback(self.user, data, CARD)
        if wait:
            found = self.emulator.callback_query(query)
            assert found is not None
            await self.handled.wait(found["update_id"])


@pytest.mark.skipif(not TEST_REDIS_URL, reason=REDIS_HINT)
async def test_three_replicas_one_killed_lose_and_repeat_nothing(
    tmp_path: Path, backend: str, database_url: str
) -> None:
    if backend == "sqlite":
        pytest.skip("replicas share PostgreSQL; SQLite serves one process")
    chaos = random.Random(SEED)
    emulator = BotAPIEmulator(token=TOKEN, latency=0.005)
    emulator.webhook_first_retry = 0.5
    await emulator.start()
    world = Shop(database_url, balance_max=usd(BALANCE_MAX))
    world.base.clock.advance(datetime.now(UTC) - world.base.clock.now())
    await world.base.open(*PEOPLE, *GIVERS, OPERATOR)
    for user in (*PEOPLE, *GIVERS, OPERATOR):
        emulator.add_user(user, f"User {user}")

    # The plan, made through the services as the bot makes it.
    buyers = PEOPLE[::5]
    orders: dict[int, PlannedOrder] = {}
    funded: Counter[int] = Counter()
    charges = 0
    for user in buyers:
        await world.set_up_password(user, PASSWORD)
        await world.pay(user, 3000)
        funded[user] += 3000
        charges += 1
        amount = chaos.randrange(100, 3000)
        order = await world.orders.create(
            user, "Replicated goods", usd(amount), cashback_percent=Decimal(5)
        )
        orders[order.id] = PlannedOrder(user, amount, chaos.random() < 0.3)
    gifts: dict[str, PlannedGift] = {}
    for giver in GIVERS:
        amount = chaos.choice((500, 1000, 2500))
        await world.pay(giver, amount, "gift")
        charges += 1
        gift = await world.gifts.latest_of(giver)
        assert gift is not None
        gifts[gift.code] = PlannedGift(amount, tuple(chaos.sample(PEOPLE, 2)))  # type: ignore[arg-type]
    # A tenth withdraw their certificate cashback ($6 of $600 in certificates) to a saved card.
    cards = CardService(world.base.db, world.base.clock)
    withdrawers: dict[int, int] = {}  # user: card id
    for user in PEOPLE[2::10]:
        if user not in buyers:
            await world.set_up_password(user, PASSWORD)
        for _ in range(3):  # the largest certificate is $200
            await world.pay(user, 20000)
        funded[user] += 60000
        charges += 3
        card = await cards.add(user, check_number(CARD_NUMBER), "12/30")
        withdrawers[user] = card.id
    purchases: dict[int, Purchase] = {}
    for user in PEOPLE:
        amount = usd(chaos.choice((500, 1000, 2000, 1250)))
        purchases[user] = await world.certificates.create_purchase(user, amount, "self")
    bills = {
        f"Bill-{n}": (chaos.choice(PEOPLE), chaos.randrange(100, 900))
        for n in range(max(2, USERS // 20))
    }

    steps: dict[int, list[tuple[str, str]]] = defaultdict(list)
    # "burst": sent at once after the step before, as a double tap is: one Telegram queue,
    # whose two updates may reach two replicas.
    for user in PEOPLE:
        steps[user] += [("text", "/start"), ("text", "/balance"), ("tap", "m:balance")]
        steps[user] += [("pay", ""), ("text", "/help")]
    for order_id, order in orders.items():
        pay = OrderAction(step=OrderStep.PAY, order_id=order_id).pack()
        steps[order.user].append(("tap", pay))
        if chaos.random() < 0.3:
            steps[order.user].append(("burst", pay))
        steps[order.user].append(("text", PASSWORD))
        if order.cancel:
            steps[order.user].append(
                ("tap", OrderAction(step=OrderStep.CANCEL, order_id=order_id).pack())
            )
    for user, card_id in withdrawers.items():
        steps[user] += [
            ("tap", CashbackAction(step=CashbackStep.WITHDRAW).pack()),
            ("tap", CashbackAction(step=CashbackStep.CARD, card_id=card_id).pack()),
            ("text", PASSWORD),
        ]
    race: dict[int, list[str]] = defaultdict(list)
    for code, gift in gifts.items():
        for user in gift.claimers:
            race[user].append(f"/start gift_{code}")
    for user in PEOPLE:
        while len(steps[user]) + len(race[user]) < 9:
            steps[user].append(chaos.choice([("text", "/balance"), ("tap", "m:balance")]))
    operator_steps = [
        f"/admin_order {buyer} {cents // 100}.{cents % 100:02d} {title}"
        for title, (buyer, cents) in bills.items()
    ]

    outcomes: dict[int, PaymentOutcome] = {}
    replicas = Replicas(emulator, tmp_path, database_url)
    started = asyncio.Event()

    handled = Handled(world)

    async def person(user: int) -> None:
        who = Person(emulator, handled, user)
        steps_of = steps[user]
        for number, (kind, value) in enumerate(steps_of):
            if number + 1 < len(steps_of) and steps_of[number + 1][0] == "burst":
                await who.tap(value, wait=False)
                continue
            if kind == "pay":
                purchase = purchases[user]
                if chaos.random() < 0.25:
                    emulator.duplicate_next_payment()
                outcomes[user] = await emulator.pay_tampered(
                    user,
                    payload=purchase.public_id,
                    currency=purchase.invoice_currency,
                    total_amount=purchase.invoice_amount,
                    answer_timeout=30,
                )
                await handled.wait(outcomes[user].update_id or 0)
            elif kind in ("tap", "burst"):
                await who.tap(value)
            else:
                await who.text(value)
            started.set()
        # Gift claims race: both claimers send at once.
        await asyncio.gather(*(emulator.send_text(user, text) for text in race[user]))

    async def operator() -> None:
        who = Person(emulator, handled, OPERATOR)
        for command in operator_steps:
            await who.text(command)

    takeover: list[float] = []

    async def chaos_monkey() -> None:
        await started.wait()
        await asyncio.sleep(chaos.uniform(1.0, 2.0))
        pid = replicas.kill(1)
        killed_at = time.monotonic()
        # The takeover: every lane the dead process held with updates waiting is another's.
        while True:
            rows = await world.base.fetch(
                "SELECT COUNT(*) FROM lanes l WHERE l.owner LIKE $1 AND EXISTS (SELECT 1 FROM"
                " inbox i WHERE i.lane = l.lane AND i.done_at IS NULL AND i.parked_at IS NULL)",
                f"%:{pid}:%",
            )
            if int(rows[0][0]) == 0:
                break
            await asyncio.sleep(0.05)
        takeover.append(time.monotonic() - killed_at)
        await asyncio.sleep(chaos.uniform(2.0, 4.0))
        await replicas.start(1)

    try:
        for index in range(REPLICAS):
            await replicas.start(index)
        monkey = asyncio.create_task(chaos_monkey())
        watcher = asyncio.create_task(handled.watch())
        began = time.monotonic()
        await asyncio.gather(operator(), *(person(user) for user in PEOPLE))
        acted = time.monotonic() - began
        await monkey
        watcher.cancel()
        await emulator.wait_until_confirmed(limit=120)
        for _ in range(1200):
            if await _settled(world, len(PEOPLE), orders, gifts, bills, outcomes, charges):
                break
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - began
    finally:
        await replicas.stop_all()
        await emulator.stop()

    try:
        updates = len(emulator.update_log())
        print(
            f"replicas: {USERS} people, {updates} updates in {elapsed:.1f} s"
            f" (the people done in {acted:.1f} s),"
            f" takeover after SIGKILL {takeover[0]:.2f} s, waited out {handled.late[:10]}"
        )
        assert takeover and takeover[0] < 2 * LEASE + 1.0, takeover
        await _check_money(world, orders, gifts, outcomes, funded, purchases)
        await _check_withdrawals(world, withdrawers)
        await _check_order_of_lanes(world)
        _check_pre_checkouts(emulator)
        await _check_notices(world, emulator, bills)
        await world.check()
    finally:
        await world.base.close()


async def _settled(
    world: Shop,
    people: int,
    orders: dict[int, PlannedOrder],
    gifts: dict[str, PlannedGift],
    bills: dict[str, tuple[int, int]],
    outcomes: dict[int, PaymentOutcome],
    charges: int,
) -> bool:
    paid = sum(1 for o in outcomes.values() if o.ok)
    if len(outcomes) < people or await _credited(world) != charges + paid:
        return False
    rows = await world.base.fetch(
        "SELECT"
        " (SELECT COUNT(*) FROM orders WHERE id IN"
        "   (SELECT order_id FROM order_events WHERE status = 'paid') AND title NOT LIKE 'Bill-%'),"
        " (SELECT COUNT(*) FROM orders WHERE status = 'cancelled'),"
        " (SELECT COUNT(*) FROM gifts WHERE status = 'claimed'),"
        " (SELECT COUNT(*) FROM orders WHERE title LIKE 'Bill-%'),"
        " (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL),"
        " (SELECT COUNT(*) FROM inbox WHERE done_at IS NULL)"
    )
    settled, cancelled, claimed, billed, unsent, waiting = (int(v) for v in rows[0])
    cancels = sum(1 for order in orders.values() if order.cancel)
    return (settled, cancelled, claimed, billed, unsent, waiting) == (
        len(orders),
        cancels,
        len(gifts),
        len(bills),
        0,
        0,
    )


async def _check_money(
    world: Shop,
    orders: dict[int, PlannedOrder],
    gifts: dict[str, PlannedGift],
    outcomes: dict[int, PaymentOutcome],
    funded: Counter[int],
    purchases: dict[int, Purchase],
) -> None:
    paid = {user: o for user, o in outcomes.items() if o.ok}
    assert len(paid) == len(PEOPLE), "every pre-checkout answered yes and charged"
    charges = await world.certificates.charges_by_id(
        [o.telegram_payment_charge_id or "" for o in paid.values()]
    )
    assert len(charges) == len(paid)
    assert all(purchase.status == "paid" for purchase in charges.values())
    rows = await world.base.fetch(
        "SELECT idempotency_key, COUNT(*) FROM entries GROUP BY idempotency_key HAVING COUNT(*) > 1"
    )
    assert rows == [], "an idempotency key applied twice"

    expected = Counter(funded)
    for user, purchase in purchases.items():
        expected[user] += purchase.amount.minor
    for order_id, (user, amount, cancel, _) in orders.items():
        order = (await world.orders.view(user, order_id)).order
        assert order.status == ("cancelled" if cancel else "paid"), (order_id, order.status)
        if not cancel:
            expected[user] -= amount
    for code, (amount, claimers) in gifts.items():
        found = await world.base.fetch("SELECT status, claimer_id FROM gifts WHERE code = $1", code)
        status, winner = found[0]
        assert status == "claimed" and winner in claimers, (code, status, winner)
        expected[int(winner)] += amount
    for user in PEOPLE:
        balance = (await world.base.ledger.balances(user)).balance
        assert balance == usd(expected[user]), (user, balance, expected[user])


async def _check_withdrawals(world: Shop, withdrawers: dict[int, int]) -> None:
    """Each asked once, for all the available cashback (the $6 and 1% of the Stars purchase),
    to the card chosen; none left over."""
    for user, card_id in withdrawers.items():
        rows = await world.base.fetch(
            "SELECT amount, card_id, status FROM withdrawals WHERE user_id = $1", user
        )
        assert len(rows) == 1, (user, rows)
        amount, card, status = rows[0]
        assert amount >= 600 and (card, status) == (card_id, "requested"), (user, rows)
        held = await world.base.ledger.balances(user)
        assert held.cashback_available == usd(0), (user, held)


async def _check_order_of_lanes(world: Shop) -> None:
    """Within a chat, updates finished in update_id order, whichever replica stored each and
    whichever handled it (the inbox keeps when each finished)."""
    rows = await world.base.fetch(
        "SELECT lane, update_id FROM inbox WHERE done_at IS NOT NULL ORDER BY lane, done_at"
    )
    by_lane: dict[str, list[int]] = defaultdict(list)
    for lane, update_id in rows:
        by_lane[lane].append(update_id)
    disorder = {lane: ids for lane, ids in by_lane.items() if ids != sorted(ids)}
    assert len(by_lane) >= len(PEOPLE)
    assert not disorder, list(disorder.items())[:3]


def _check_pre_checkouts(emulator: BotAPIEmulator) -> None:
    """Every pre-checkout query answered within Telegram's 10 s of its first delivery."""
    first_post: dict[int, float] = {}
    for post in emulator.posts():
        first_post.setdefault(post.update_id, post.sent_at)
    answered = {
        str(call.params["pre_checkout_query_id"]): call.time
        for call in emulator.calls("answerPreCheckoutQuery")
    }
    late = []
    queries = 0
    for update in emulator.update_log():
        query = update.get("pre_checkout_query")
        if query is None:
            continue
        queries += 1
        waited = answered[str(query["id"])] - first_post[update["update_id"]]
        if waited > 10:
            late.append((update["update_id"], round(waited, 1)))
    assert queries == len(PEOPLE)
    assert not late, late


async def _check_notices(
    world: Shop, emulator: BotAPIEmulator, bills: dict[str, tuple[int, int]]
) -> None:
    """Notices left at Telegram's pace, counted over every replica: never more than
    NOTICE_RATE in a second (one more at the edges of the even spacing), a chat's next one a
    second after the last. Each bill reached its buyer once (twice only if a kill fell between
    Telegram's answer and the row's mark)."""
    rows = await world.base.fetch(
        "SELECT chat_id, sent_at FROM outbox WHERE sent_at IS NOT NULL ORDER BY sent_at"
    )
    moments = [row[1].timestamp() for row in rows]
    assert moments, "no notice went out"
    busiest = max(sum(1 for m in moments[i:] if m < start + 1.0) for i, start in enumerate(moments))
    assert busiest <= NOTICE_RATE + 1, busiest
    for title, (buyer, _) in bills.items():
        assert 1 <= bills_delivered(emulator, buyer, title) <= 2, title
