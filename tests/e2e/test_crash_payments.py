"""Crash suite for money: a stream of Stars purchases (some delivered twice by Telegram), order
payments confirmed with the password (some with a double tap on Pay, some in the Mini App,
retried by the app across the restarts), cancels of paid orders,
gift claims raced by two users and operators' bills (``/admin_order``), while the real bot
process is SIGKILLed at random moments and restarted on the same database.

Every charge is credited once, every order is paid at most once and refunded at most once, every
gift has one winner, every bill makes one order and reaches its buyer, and the books balance.
CI kills twice per backend; ``CRASH_KILLS=50`` kills at 50 random moments (a few minutes per
backend), ``CRASH_SEED`` picks other moments.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import aiohttp

from bot.domain.models import Purchase
from bot.emulator import BotAPIEmulator, PaymentOutcome
from bot.emulator.webapp import init_data_for
from bot.keyboards.callbacks import OrderAction, OrderStep
from bot.playground.delivery import free_port
from tests.conftest import TOKEN, spawn_bot_process
from tests.e2e.test_security_dialogues import PASSWORD  # one the secrets scan looks for
from tests.unit.test_orders import Shop, usd

BUYERS = [7000 + n for n in range(10)]
GIVER = 7100
OPERATOR = 7200
BILLS_PER_ROUND = 4
KILLS = int(os.environ.get("CRASH_KILLS", "2"))
SEED = int(os.environ.get("CRASH_SEED", "20261201"))
STARS_PER_ROUND = 10
GIFTS_PER_ROUND = 3
BALANCE_MAX = 10_000_000  # in cents: $100,000
# The pepper the test's services hash with (tests.unit.test_certificates.World), so the bot
# verifies the passwords they set.
PEPPER = "p" * 32
# Any message id: the bot edits the tapped message or, when it is gone, sends a new one.
CARD = 1


class PlannedOrder(NamedTuple):
    user: int
    amount: int
    cancel: bool  # paid, then cancelled
    in_app: bool = False  # paid in the Mini App (never cancelled: the chat would race it)


class PlannedGift(NamedTuple):
    amount: int
    claimers: tuple[int, int]


@dataclass
class Plan:
    """What the stream asks for; the books must end up exactly so, however often it dies."""

    purchases: list[Purchase] = field(default_factory=list)
    orders: dict[int, PlannedOrder] = field(default_factory=dict)  # by order id
    gifts: dict[str, PlannedGift] = field(default_factory=dict)  # by gift code
    funded: Counter[int] = field(default_factory=Counter)
    charges: int = 0  # certificates paid through the services before the stream
    bills: dict[str, tuple[int, int]] = field(default_factory=dict)  # title: (buyer, cents)


async def test_sigkill_during_payments_orders_and_claims_loses_and_repeats_nothing(
    tmp_path: Path, database_url: str
) -> None:
    chaos = random.Random(SEED)
    emulator = BotAPIEmulator(token=TOKEN, latency=0.01)
    await emulator.start()
    # Fifty rounds of purchases and claims pass BALANCE_MAX ($2,000 by default), which would
    # refuse claims and payments by design: the cap is raised on both sides.
    world = Shop(database_url, balance_max=usd(BALANCE_MAX))
    # The services' clock at the bot's (wall-clock) time: gifts must not be born expired.
    world.base.clock.advance(datetime.now(UTC) - world.base.clock.now())
    await world.base.open(*BUYERS, GIVER, OPERATOR)
    for user in (*BUYERS, GIVER, OPERATOR):
        emulator.add_user(user, f"User {user}")
    plan = await _plan(world, chaos)
    rounds = _rounds(plan, chaos)
    outcomes: dict[str, PaymentOutcome] = {}
    process: asyncio.subprocess.Process | None = None

    async def pay_stars(purchase: Purchase) -> None:
        outcomes[purchase.public_id] = await emulator.pay_tampered(
            purchase.user_id,
            payload=purchase.public_id,
            currency=purchase.invoice_currency,
            total_amount=purchase.invoice_amount,
            answer_timeout=30,  # long enough to outlive a restart
        )

    async def act(user: int, steps: list[tuple[str, str]]) -> None:
        for kind, value in steps:  # one chat's updates in order, as a person sends them
            if kind == "tap":
                await emulator.send_callback(user, value, CARD)
            else:
                await emulator.send_text(user, value)

    port = free_port()
    app_url = f"http://127.0.0.1:{port}/app/"

    async def spawn() -> asyncio.subprocess.Process:
        return await spawn_bot_process(
            emulator,
            tmp_path,
            capture=False,
            database_url=database_url,
            LOG_LEVEL="WARNING",
            SECRET_PEPPER=PEPPER,
            ADMIN_IDS=str(OPERATOR),
            BALANCE_MAX=str(BALANCE_MAX // 100),
            WEBAPP_URL=app_url,
            WEBHOOK_PORT=str(port),
        )

    try:
        process = await spawn()
        for number, (stars, chats, in_app) in enumerate(rounds):
            for _ in range(3):
                emulator.duplicate_next_payment()
            mark = emulator.call_count()
            payments = [asyncio.create_task(pay_stars(purchase)) for purchase in stars]
            payments += [asyncio.create_task(pay_in_app(app_url, *order)) for order in in_app]
            await asyncio.gather(*(act(user, steps) for user, steps in chats.items()))
            if number < KILLS:
                # Kill while the round is being answered, paid, refunded and claimed.
                await emulator.wait_for_call("answerPreCheckoutQuery", after=mark, timeout=30)
                await asyncio.sleep(chaos.uniform(0, 0.3))
                process.send_signal(signal.SIGKILL)
                await process.wait()
                process = await spawn()
            await asyncio.gather(*payments)
        await emulator.wait_until_confirmed(limit=60)
        for _ in range(600):  # the restarted bot works through its inbox
            if await _settled(world, plan, outcomes):
                break
            await asyncio.sleep(0.1)
    finally:
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=10)
        await emulator.stop()

    try:
        await _check(world, plan, outcomes)
        await _check_bills(world, plan, emulator)
    finally:
        await world.base.close()


async def pay_in_app(app_url: str, user: int, order_id: int) -> None:
    """The Mini App pays an order with the password, as a phone would: a request that dies
    with the process is tried again (a new nonce each time) until the order is paid, by this
    try or by one that committed before the kill."""
    person = {"id": user, "first_name": f"User {user}", "language_code": "en"}
    deadline = asyncio.get_running_loop().time() + 90
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        session = ""
        while True:
            assert asyncio.get_running_loop().time() < deadline, ("never paid", order_id)
            try:
                if not session:
                    init_data = init_data_for(TOKEN, person, int(time.time()))
                    async with http.post(
                        app_url + "api/session", json={"init_data": init_data}
                    ) as answer:
                        session = (await answer.json())["session"]
                headers = {"X-Session": session}
                async with http.post(
                    app_url + f"api/orders/{order_id}/pay", json={}, headers=headers
                ) as answer:
                    step = await answer.json()
                    if answer.status == 400 and step["error"].startswith("order-refused"):
                        return  # paid already: an earlier try committed before the kill
                    assert answer.status == 200, step
                async with http.post(
                    app_url + "api/confirm",
                    json={"nonce": step["nonce"], "password": PASSWORD},
                    headers=headers,
                ) as answer:
                    done = await answer.json()
                    if answer.status == 200:
                        assert done["result"] == order_id
                        return
                    assert answer.status in (409, 429, 503), done  # spent in the crash: again
            except (aiohttp.ClientError, TimeoutError, ValueError):
                pass  # the process is down or dying: a phone tries again
            await asyncio.sleep(0.2)


async def _plan(world: Shop, chaos: random.Random) -> Plan:
    """Passwords, funded orders, gifts and Stars purchases, made through the services as the
    bot makes them; paying, cancelling and claiming are what the stream does."""
    plan = Plan()
    for user in BUYERS:
        await world.set_up_password(user, PASSWORD)
    for n in range(STARS_PER_ROUND * (KILLS + 1)):
        amount = usd(chaos.choice((500, 1000, 2000, 1250, 5000)))
        user = BUYERS[n % len(BUYERS)]
        plan.purchases.append(await world.certificates.create_purchase(user, amount, "self"))
    for _ in range(KILLS + 1):
        for user in BUYERS:
            amount = chaos.randrange(100, 3000)
            await world.pay(user, 3000)  # one certificate per order, paid by the stream
            plan.funded[user] += 3000
            plan.charges += 1
            order = await world.orders.create(
                user, "Crash-tested goods", usd(amount), cashback_percent=Decimal(5)
            )
            in_app = chaos.random() < 0.3
            cancel = not in_app and chaos.random() < 0.4
            plan.orders[order.id] = PlannedOrder(user, amount, cancel, in_app)
        for _ in range(BILLS_PER_ROUND):
            plan.bills[f"Bill-{len(plan.bills) + 1}"] = (
                chaos.choice(BUYERS),
                chaos.randrange(100, 900),
            )
        for _ in range(GIFTS_PER_ROUND):
            amount = chaos.choice((500, 1000, 2500))
            await world.pay(GIVER, amount, "gift")
            plan.charges += 1
            gift = await world.gifts.latest_of(GIVER)
            assert gift is not None
            first, second = chaos.sample(BUYERS, 2)
            plan.gifts[gift.code] = PlannedGift(amount, (first, second))
    return plan


Round = tuple[list[Purchase], dict[int, list[tuple[str, str]]], list[tuple[int, int]]]


def _rounds(plan: Plan, chaos: random.Random) -> list[Round]:
    """Per round: the Stars purchases paid, each chat's updates in the order sent, and the
    orders (user, order id) paid in the Mini App."""
    rounds = []
    orders = list(plan.orders.items())
    gifts = list(plan.gifts.items())
    per_round = len(BUYERS)
    for number in range(KILLS + 1):
        chats: dict[int, list[tuple[str, str]]] = {}
        in_app: list[tuple[int, int]] = []
        for order_id, order in orders[number * per_round : (number + 1) * per_round]:
            if order.in_app:
                in_app.append((order.user, order_id))
                continue
            pay = OrderAction(step=OrderStep.PAY, order_id=order_id).pack()
            steps = [("tap", pay)]
            if chaos.random() < 0.3:
                steps.append(("tap", pay))  # a double tap on Pay
            steps.append(("text", PASSWORD))
            if order.cancel:
                steps.append(("tap", OrderAction(step=OrderStep.CANCEL, order_id=order_id).pack()))
            chats.setdefault(order.user, []).extend(steps)
        for code, gift in gifts[number * GIFTS_PER_ROUND : (number + 1) * GIFTS_PER_ROUND]:
            for user in gift.claimers:
                chats.setdefault(user, []).append(("text", f"/start gift_{code}"))
        bills = list(plan.bills.items())[number * BILLS_PER_ROUND : (number + 1) * BILLS_PER_ROUND]
        for title, (buyer, cents) in bills:
            command = f"/admin_order {buyer} {cents // 100}.{cents % 100:02d} {title}"
            chats.setdefault(OPERATOR, []).append(("text", command))
        stars = plan.purchases[number * STARS_PER_ROUND : (number + 1) * STARS_PER_ROUND]
        rounds.append((stars, chats, in_app))
    return rounds


async def _settled(world: Shop, plan: Plan, outcomes: dict[str, PaymentOutcome]) -> bool:
    paid = sum(1 for o in outcomes.values() if o.ok)
    if await _credited(world) != plan.charges + paid:
        return False
    rows = await world.base.fetch(
        "SELECT"
        " (SELECT COUNT(*) FROM orders WHERE status IN ('paid', 'cancelled')"
        "   AND id IN (SELECT order_id FROM order_events WHERE status = 'paid')),"
        " (SELECT COUNT(*) FROM orders WHERE status = 'cancelled'),"
        " (SELECT COUNT(*) FROM gifts WHERE status = 'claimed')"
    )
    settled, cancelled, claimed = (int(v) for v in rows[0])
    cancels = sum(1 for order in plan.orders.values() if order.cancel)
    bills = await world.base.fetch(
        "SELECT (SELECT COUNT(*) FROM orders WHERE title LIKE 'Bill-%'),"
        " (SELECT COUNT(*) FROM outbox WHERE template = 'order-billed' AND sent_at IS NOT NULL)"
    )
    return (settled, cancelled, claimed, *(int(v) for v in bills[0])) == (
        len(plan.orders),
        cancels,
        len(plan.gifts),
        len(plan.bills),
        len(plan.bills),
    )


async def _check(world: Shop, plan: Plan, outcomes: dict[str, PaymentOutcome]) -> None:
    paid = {p: o for p, o in outcomes.items() if o.ok}
    assert paid, "no Stars payment went through at all"
    assert any(order.in_app for order in plan.orders.values()), "no order paid in the Mini App"
    assert await _credited(world) == plan.charges + len(paid)
    charges = await world.certificates.charges_by_id(
        [o.telegram_payment_charge_id or "" for o in paid.values()]
    )
    assert len(charges) == len(paid)
    assert all(purchase.status == "paid" for purchase in charges.values())

    expected = Counter(plan.funded)
    for purchase in plan.purchases:
        if purchase.public_id in paid:
            expected[purchase.user_id] += purchase.amount.minor
    for order_id, (user, amount, cancel, _) in plan.orders.items():
        order = (await world.orders.view(user, order_id)).order
        assert order.status == ("cancelled" if cancel else "paid"), (order_id, order.status)
        keys = await world.base.fetch(
            "SELECT idempotency_key FROM entries WHERE idempotency_key = $1"
            " OR idempotency_key LIKE $2",
            f"order-pay:{order_id}",
            f"order-refund:{order_id}:%",
        )
        kinds = Counter(str(key).split(":")[0] for (key,) in keys)
        assert kinds == Counter({"order-pay": 1, **({"order-refund": 1} if cancel else {})}), (
            order_id,
            kinds,
        )
        if not cancel:
            expected[user] -= amount
    for code, (amount, claimers) in plan.gifts.items():
        rows = await world.base.fetch("SELECT status, claimer_id FROM gifts WHERE code = $1", code)
        status, winner = rows[0]
        assert status == "claimed" and winner in claimers, (code, status, winner)
        expected[int(winner)] += amount
    for user in BUYERS:
        balance = (await world.base.ledger.balances(user)).balance
        assert balance == usd(expected[user]), (user, balance, expected[user])
    await world.check()


async def _check_bills(world: Shop, plan: Plan, emulator: BotAPIEmulator) -> None:
    """Each /admin_order made one order, however often a restart replayed it, and its bill
    reached the buyer: one outbox row, sent. A kill between Telegram's answer and the row's
    mark is the one way a notice goes out twice (NOTICE_LEASE), so the messages are counted
    too: at least one each, never more than two."""
    for title, (buyer, cents) in plan.bills.items():
        rows = await world.base.fetch(
            "SELECT id, user_id, amount FROM orders WHERE title = $1", title
        )
        assert [(r[1], r[2]) for r in rows] == [(buyer, cents)], (title, rows)
        order_id = rows[0][0]
        notices = await world.base.fetch(
            "SELECT COUNT(*) FROM outbox WHERE card = $1 AND template = 'order-billed'"
            " AND sent_at IS NOT NULL",
            f"order:{order_id}",
        )
        assert notices[0][0] == 1, (title, notices)
        assert 1 <= bills_delivered(emulator, buyer, title) <= 2, title


def bills_delivered(emulator: BotAPIEmulator, buyer: int, title: str) -> int:
    """How many times the buyer was sent the bill titled ``title``."""
    return sum(
        1
        for c in emulator.calls("sendMessage")
        if c.ok
        and int(c.params["chat_id"]) == buyer
        and "new bill" in c.params["text"]
        and f"</b>: {title}\n" in c.params["text"]
    )


async def _credited(world: Shop) -> int:
    """Telegram charges credited: the stream's Stars payments and the certificates paid
    through the services to fund the orders and the gifts."""
    rows = await world.base.fetch(
        "SELECT COUNT(*) FROM entries WHERE idempotency_key LIKE 'tg-charge:%'"
    )
    return int(rows[0][0])
