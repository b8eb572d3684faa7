"""Orders through their service, on SQLite and PostgreSQL: paying with the password from the
certificates (oldest first), the lifecycle, instant refunds and the goods' pending cashback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.domain.errors import (
    AccountLocked,
    InsufficientFunds,
    OperationGone,
    OrderRefused,
    WrongPassword,
)
from bot.domain.money import Money
from bot.services.orders import OrderService
from bot.services.security import QUESTION_CODES
from tests.unit.test_certificates import World

ALICE, BOB = 301, 302
PASSWORD = "correct horse battery"
OPERATOR = 900


def usd(minor: int) -> Money:
    return Money(minor, "USD")


class Shop(World):
    def __init__(self, url: str, **changes: object) -> None:
        super().__init__(url, **changes)
        self.orders = OrderService(
            self.base.db,
            self.certificates,
            self.cashback,
            self.security,
            self.base.clock,
            timedelta(days=15),
        )

    async def set_up_password(self, user_id: int, password: str = PASSWORD) -> None:
        hashed = await self.security.hash_new_password(password)
        answers = tuple([await self.security.hash_answer("x")] * 3)
        await self.security.set_up(user_id, hashed, QUESTION_CODES[:3], answers)

    async def pay_order(self, user_id: int, order_id: int) -> None:
        operation = await self.orders.prepare_payment(user_id, order_id)
        await self.security.confirm_operation(user_id, operation.id, PASSWORD)

    async def balances(self, user_id: int) -> tuple[int, int, int]:
        held = await self.base.ledger.balances(user_id)
        return (
            held.balance.minor,
            held.cashback_pending.minor,
            held.cashback_available.minor,
        )


@pytest.fixture
async def shop(database_url: str) -> AsyncIterator[Shop]:
    world = Shop(database_url)
    await world.base.open(ALICE, BOB)
    for user in (ALICE, BOB):
        await world.set_up_password(user)
    try:
        yield world
    finally:
        await world.base.close()


async def test_three_certificates_worth_160_pay_147_99_and_leave_12_01(shop: Shop) -> None:
    for minor in (5000, 6000, 5000):
        await shop.pay(ALICE, minor)
    order = await shop.orders.create(ALICE, "Headphones", usd(14799), cashback_percent=Decimal(5))
    await shop.pay_order(ALICE, order.id)
    balance, pending, available = await shop.balances(ALICE)
    # Goods' cashback pending (5% of 147.99 = 7.40); certificates' 1% available (0.50+0.60+0.50).
    assert (balance, pending, available) == (1201, 740, 160)
    page = await shop.certificates.page(ALICE, 0)
    assert [c.remaining.minor for c in reversed(page.page.items)] == [0, 0, 1201]
    view = await shop.orders.view(ALICE, order.id)
    assert view.order.status == "paid"
    assert [e.status for e in view.history] == ["awaiting_payment", "paid"]
    await shop.check()


async def test_a_short_balance_is_refused_with_the_gap_and_changes_nothing(shop: Shop) -> None:
    await shop.pay(ALICE, 1000)
    order = await shop.orders.create(ALICE, "Lamp", usd(1500))
    with pytest.raises(InsufficientFunds) as short:
        await shop.orders.prepare_payment(ALICE, order.id)
    assert short.value.params == {"needed": usd(1500), "available": usd(1000)}
    assert (await shop.orders.view(ALICE, order.id)).order.status == "awaiting_payment"


async def test_a_wrong_password_pays_nothing_and_a_double_confirm_pays_once(shop: Shop) -> None:
    await shop.pay(ALICE, 2000)
    order = await shop.orders.create(ALICE, "Book", usd(1200))
    operation = await shop.orders.prepare_payment(ALICE, order.id)
    with pytest.raises(WrongPassword):
        await shop.security.confirm_operation(ALICE, operation.id, "wrong password")
    assert (await shop.balances(ALICE))[0] == 2000
    await shop.security.confirm_operation(ALICE, operation.id, PASSWORD)
    with pytest.raises(OperationGone):
        await shop.security.confirm_operation(ALICE, operation.id, PASSWORD)
    # A second operation for the paid order (a stale Pay button) is refused before the password.
    with pytest.raises(OrderRefused):
        await shop.orders.prepare_payment(ALICE, order.id)
    assert (await shop.balances(ALICE))[0] == 800
    await shop.check()


async def test_two_orders_racing_for_one_balance_exactly_one_is_paid(shop: Shop) -> None:
    await shop.pay(ALICE, 2000)
    first = await shop.orders.create(ALICE, "One", usd(1500))
    second = await shop.orders.create(ALICE, "Two", usd(1500))
    operations = [
        await shop.orders.prepare_payment(ALICE, first.id),
        await shop.orders.prepare_payment(ALICE, second.id),
    ]
    results = await asyncio.gather(
        *(shop.security.confirm_operation(ALICE, op.id, PASSWORD) for op in operations),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1, results
    assert sum(isinstance(r, InsufficientFunds) for r in results) == 1, results
    statuses = sorted([(await shop.orders.view(ALICE, o.id)).order.status for o in (first, second)])
    assert statuses == ["awaiting_payment", "paid"]
    assert (await shop.balances(ALICE))[0] == 500
    await shop.check()


async def test_cancel_refunds_at_once_and_voids_the_pending_cashback(shop: Shop) -> None:
    await shop.pay(ALICE, 5000)
    order = await shop.orders.create(ALICE, "Kettle", usd(3000), cashback_percent=Decimal(10))
    await shop.pay_order(ALICE, order.id)
    assert await shop.balances(ALICE) == (2000, 300, 50)
    cancelled = await shop.orders.cancel(ALICE, order.id)
    assert cancelled.status == "cancelled" and cancelled.refunded == usd(3000)
    assert await shop.balances(ALICE) == (5000, 0, 50)
    with pytest.raises(OrderRefused):  # only once
        await shop.orders.cancel(ALICE, order.id)
    with pytest.raises(OrderRefused):  # not Bob's
        await shop.orders.cancel(BOB, order.id)
    await shop.check()


async def test_ship_deliver_confirm_holds_the_cashback_then_releases_it(shop: Shop) -> None:
    await shop.pay(ALICE, 5000)
    order = await shop.orders.create(ALICE, "Mug", usd(1000), cashback_percent=Decimal(3))
    await shop.pay_order(ALICE, order.id)
    with pytest.raises(OrderRefused):  # delivered before shipped
        await shop.orders.operator_action(OPERATOR, order.id, "delivered")
    await shop.orders.operator_action(OPERATOR, order.id, "shipped", tracking="RU123")
    with pytest.raises(OrderRefused):  # too late to cancel
        await shop.orders.cancel(ALICE, order.id)
    await shop.orders.operator_action(OPERATOR, order.id, "delivered")
    done = await shop.orders.confirm_receipt(ALICE, order.id)
    assert done.status == "completed" and done.tracking == "RU123"
    assert await shop.balances(ALICE) == (4000, 30, 50)  # on hold for CASHBACK_HOLD
    shop.base.clock.advance(timedelta(days=14))
    assert await shop.cashback.release_due() == usd(30)
    assert await shop.balances(ALICE) == (4000, 0, 80)
    view = await shop.orders.view(ALICE, order.id)
    assert [(e.status, e.actor) for e in view.history] == [
        ("awaiting_payment", "buyer"),
        ("paid", "buyer"),
        ("shipped", f"operator:{OPERATOR}"),
        ("delivered", f"operator:{OPERATOR}"),
        ("completed", "buyer"),
    ]
    audit = await shop.base.fetch("SELECT actor_id, action FROM order_audit ORDER BY id")
    assert [tuple(row) for row in audit] == [(OPERATOR, "shipped"), (OPERATOR, "delivered")]
    await shop.check()


@pytest.mark.parametrize(
    ("refund", "balance", "available"),
    # 1% of the $50 certificate is available from the start; the goods earn 10% of $20.
    [(None, 5000, 50), (usd(500), 3500, 50 + 150), ("lost", 3000, 50 + 200)],
)
async def test_disputes_won_in_full_in_part_and_lost(
    shop: Shop, refund: Money | str | None, balance: int, available: int
) -> None:
    await shop.pay(ALICE, 5000)
    order = await shop.orders.create(ALICE, "Chair", usd(2000), cashback_percent=Decimal(10))
    await shop.pay_order(ALICE, order.id)
    await shop.orders.operator_action(OPERATOR, order.id, "shipped")
    await shop.orders.open_dispute(ALICE, order.id)
    if refund == "lost":
        await shop.orders.operator_action(OPERATOR, order.id, "dispute_lost")
    else:
        assert refund is None or isinstance(refund, Money)
        await shop.orders.operator_action(OPERATOR, order.id, "dispute_won", refund=refund)
    # The refunded share is voided at once; the rest is held, then released.
    shop.base.clock.advance(timedelta(days=14))
    await shop.cashback.release_due()
    assert await shop.balances(ALICE) == (balance, 0, available)
    await shop.check()


async def test_a_partial_refund_above_what_was_paid_is_refused(shop: Shop) -> None:
    await shop.pay(ALICE, 5000)
    order = await shop.orders.create(ALICE, "Desk", usd(2000))
    await shop.pay_order(ALICE, order.id)
    await shop.orders.operator_action(OPERATOR, order.id, "shipped")
    await shop.orders.operator_action(OPERATOR, order.id, "disputed")
    with pytest.raises(OrderRefused):
        await shop.orders.operator_action(OPERATOR, order.id, "dispute_won", refund=usd(2001))
    assert (await shop.orders.view(None, order.id)).order.status == "disputed"


async def test_delivered_orders_auto_confirm_after_the_protection_period(shop: Shop) -> None:
    await shop.pay(ALICE, 5000)
    order = await shop.orders.create(ALICE, "Pen", usd(1000), cashback_percent=Decimal(2))
    await shop.pay_order(ALICE, order.id)
    await shop.orders.operator_action(OPERATOR, order.id, "shipped")
    await shop.orders.operator_action(OPERATOR, order.id, "delivered")
    shop.base.clock.advance(timedelta(days=14))
    assert await shop.orders.auto_confirm_due() == []
    shop.base.clock.advance(timedelta(days=1))
    assert await shop.orders.auto_confirm_due() == [order.id]
    assert await shop.orders.auto_confirm_due() == []
    view = await shop.orders.view(ALICE, order.id)
    assert view.order.status == "completed" and view.history[-1].actor == "system"
    assert (await shop.balances(ALICE))[1:] == (20, 50)
    shop.base.clock.advance(timedelta(days=14))
    await shop.cashback.release_due()
    assert (await shop.balances(ALICE))[1:] == (0, 50 + 20)


async def test_the_lockout_blocks_paying_even_with_the_right_password(shop: Shop) -> None:
    await shop.pay(ALICE, 2000)
    order = await shop.orders.create(ALICE, "Book", usd(1000))
    operation = await shop.orders.prepare_payment(ALICE, order.id)
    for _ in range(5):  # the lockout's limit of failures
        with pytest.raises((WrongPassword, AccountLocked)):
            await shop.security.confirm_operation(ALICE, operation.id, "wrong password")
    with pytest.raises(AccountLocked):
        await shop.security.confirm_operation(ALICE, operation.id, PASSWORD)
    assert (await shop.balances(ALICE))[0] == 2000
    assert (await shop.orders.view(ALICE, order.id)).order.status == "awaiting_payment"
    shop.base.clock.advance(timedelta(minutes=16))  # the lock is over (and the operation gone)
    await shop.pay_order(ALICE, order.id)
    assert (await shop.balances(ALICE))[0] == 1000


async def test_a_keyed_creation_makes_one_order_and_reserves_stock_once(shop: Shop) -> None:
    async def create() -> object:
        return await shop.orders.create(
            ALICE, "Lamp", usd(1500), key="card:7", product_id="lamp", stock=5, quantity=2
        )

    first, *again = await asyncio.gather(*(create() for _ in range(4)))
    assert all(order == first for order in again)
    rows = await shop.base.fetch("SELECT COUNT(*) FROM orders")
    assert rows[0][0] == 1
    reserved = await shop.base.fetch("SELECT reserved FROM product_stock WHERE product_id = 'lamp'")
    assert reserved[0][0] == 2


async def test_a_card_makes_a_new_order_only_once_its_order_is_settled(shop: Shop) -> None:
    async def tap() -> object:
        return await shop.orders.create(
            ALICE, "Lamp", usd(1500), key="card:9", again_once_settled=True
        )

    first = await tap()
    assert await tap() == first  # a double tap while it awaits payment
    await shop.orders.cancel(ALICE, first.id)  # type: ignore[attr-defined]
    second = await tap()
    assert second.id != first.id  # type: ignore[attr-defined]
    assert await tap() == second
    await shop.orders.cancel(ALICE, second.id)  # type: ignore[attr-defined]
    third = await tap()
    assert third.id not in (first.id, second.id)  # type: ignore[attr-defined]


async def test_a_double_tap_on_pay_confirms_one_operation_that_names_its_order(
    shop: Shop,
) -> None:
    await shop.pay(ALICE, 5000)
    order = await shop.orders.create(ALICE, "Lamp", usd(1500))
    first = await shop.orders.prepare_payment(ALICE, order.id)
    assert await shop.orders.prepare_payment(ALICE, order.id) == first
    done = await shop.security.confirm_operation(ALICE, first.id, PASSWORD)
    assert done.result_id == order.id
    with pytest.raises(OrderRefused):  # paid: nothing left to prepare
        await shop.orders.prepare_payment(ALICE, order.id)
    # A cancelled operation's key makes a new one for the next order's Pay.
    other = await shop.orders.create(ALICE, "Cup", usd(500))
    cancelled = await shop.orders.prepare_payment(ALICE, other.id)
    await shop.security.cancel_operation(ALICE, cancelled.id)
    fresh = await shop.orders.prepare_payment(ALICE, other.id)
    assert fresh.id != cancelled.id and fresh.key != cancelled.key
    assert (await shop.balances(ALICE))[0] == 3500


async def test_a_gift_from_the_balance_shows_the_gift_its_operation_made(shop: Shop) -> None:
    await shop.pay(ALICE, 5000)
    gifts = shop.gifts
    small = await gifts.prepare_from_balance(ALICE, usd(1000), None)
    assert await gifts.prepare_from_balance(ALICE, usd(1000), None) == small
    large = await gifts.prepare_from_balance(ALICE, usd(2000), "for Bob")
    assert large.id != small.id
    small_done = await shop.security.confirm_operation(ALICE, small.id, PASSWORD)
    await shop.security.confirm_operation(ALICE, large.id, PASSWORD)
    made = await gifts.made_by(small_done)
    assert (made.amount, made.note) == (usd(1000), None)  # not the newest gift ($20.00)
    assert (await gifts.latest_of(ALICE)).amount == usd(2000)  # type: ignore[union-attr]


async def test_order_pages_carry_their_total_in_one_read(shop: Shop) -> None:
    """Newest first, 5 a page, the total read with the page: past the end it is still known,
    and another buyer's orders are no part of it."""
    made = [(await shop.orders.create(ALICE, f"Item {n}", usd(100 + n))).id for n in range(7)]
    await shop.orders.create(BOB, "Not Alice's", usd(100))
    first, second, past = [await shop.orders.page(ALICE, n) for n in (0, 1, 3)]
    assert [order.id for order in first.items] == made[::-1][:5]
    assert [order.id for order in second.items] == made[1::-1]
    assert (first.total, second.total, past.total, past.items) == (7, 7, 7, [])
    assert (await shop.orders.page(BOB, 0)).total == 1
