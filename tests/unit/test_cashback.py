"""The cashback programme through its service, on SQLite and PostgreSQL: accruals by status
with dates and reasons, the hold on the injected clock, withdrawals and moves to the balance."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.domain.errors import (
    AccountLocked,
    BalanceCapExceeded,
    CashbackRefused,
    OperationGone,
    WrongPassword,
)
from bot.services.cards import CardService, check_number
from bot.services.cashback import MOVE, CashbackService
from bot.services.security import QUESTION_CODES
from tests.unit.test_orders import ALICE, BOB, OPERATOR, PASSWORD, Shop, usd

VISA = "4111 1111 1111 1111"


@pytest.fixture
async def shop(database_url: str) -> AsyncIterator[Shop]:
    world = Shop(database_url)
    await world.base.open(ALICE, BOB)
    for user in (ALICE, BOB):
        password = await world.security.hash_new_password(PASSWORD)
        answers = tuple([await world.security.hash_answer("x")] * 3)
        await world.security.set_up(user, password, QUESTION_CODES[:3], answers)
    try:
        yield world
    finally:
        await world.base.close()


async def completed_order(shop: Shop, amount: int, percent: int) -> int:
    order = await shop.orders.create(ALICE, "Lamp", usd(amount), cashback_percent=Decimal(percent))
    await shop.pay_order(ALICE, order.id)
    await shop.orders.operator_action(OPERATOR, order.id, "shipped")
    await shop.orders.operator_action(OPERATOR, order.id, "delivered")
    await shop.orders.confirm_receipt(ALICE, order.id)
    return order.id


async def outbox(shop: Shop) -> list[tuple[int, str, dict[str, object]]]:
    """The cashback programme's notices (an order's own are tested with orders)."""
    rows = await shop.base.fetch(
        "SELECT chat_id, template, params FROM outbox WHERE template NOT LIKE 'order-%' ORDER BY id"
    )
    return [(row["chat_id"], row["template"], json.loads(row["params"])) for row in rows]


async def test_accruals_move_from_pending_to_on_hold_to_available_on_the_clock(shop: Shop) -> None:
    await shop.pay(ALICE, 10000)  # 1% = $1.00 available at once
    order = await shop.orders.create(ALICE, "Lamp", usd(4000), cashback_percent=Decimal(5))
    await shop.pay_order(ALICE, order.id)
    summary = await shop.cashback.summary(ALICE)
    assert (summary.pending, summary.on_hold, summary.available) == (usd(200), usd(0), usd(100))
    assert summary.next_release is None  # pending has no date until the order completes

    await shop.orders.operator_action(OPERATOR, order.id, "shipped")
    await shop.orders.operator_action(OPERATOR, order.id, "delivered")
    completed_at = shop.base.clock.now()
    await shop.orders.confirm_receipt(ALICE, order.id)
    summary = await shop.cashback.summary(ALICE)
    assert (summary.pending, summary.on_hold) == (usd(0), usd(200))
    assert summary.next_release is not None
    assert summary.next_release.hold_until == completed_at + timedelta(days=14)

    shop.base.clock.advance(timedelta(days=14) - timedelta(seconds=1))
    assert await shop.cashback.release_due() == usd(0)
    shop.base.clock.advance(timedelta(seconds=1))
    assert await shop.cashback.release_due() == usd(200)
    assert await shop.cashback.release_due() == usd(0)  # a second run moves nothing
    summary = await shop.cashback.summary(ALICE)
    assert (summary.on_hold, summary.available, summary.next_release) == (usd(0), usd(300), None)
    page = await shop.cashback.page(ALICE, 0)
    accruals = page.items
    assert page.total == 2
    assert [(a.source, a.status, a.amount.minor) for a in accruals] == [
        ("order", "available", 200),
        ("certificate", "available", 100),
    ]
    assert accruals[0].available_at == shop.base.clock.now()
    # One notice, with the amount and the new available total, for Alice alone.
    assert await outbox(shop) == [
        (
            ALICE,
            "notice-cashback-available",
            {
                "amount": {"money": 200, "currency": "USD"},
                "available": {"money": 300, "currency": "USD"},
            },
        )
    ]
    await shop.check()


async def test_a_balance_check_reads_what_the_ledger_and_the_accruals_say(shop: Shop) -> None:
    wallet = await shop.cashback.wallet(ALICE)
    assert (wallet.balance, wallet.certificates, wallet.available) == (usd(0), 0, usd(0))
    assert (wallet.pending, wallet.on_hold, wallet.next_release) == (usd(0), usd(0), None)

    await shop.pay(ALICE, 10000)
    await shop.pay(BOB, 5000)  # another user's money and cashback stay out of it
    order = await shop.orders.create(ALICE, "Lamp", usd(4000), cashback_percent=Decimal(5))
    await shop.pay_order(ALICE, order.id)
    wallet = await shop.cashback.wallet(ALICE)
    assert (wallet.balance, wallet.certificates, wallet.available) == (usd(6000), 1, usd(100))
    assert (wallet.pending, wallet.on_hold, wallet.next_release) == (usd(200), usd(0), None)

    later = await completed_order(shop, 1000, 10)  # held first: released first
    shop.base.clock.advance(timedelta(days=1))
    for action in ("shipped", "delivered"):
        await shop.orders.operator_action(OPERATOR, order.id, action)
    await shop.orders.confirm_receipt(ALICE, order.id)
    wallet = await shop.cashback.wallet(ALICE)
    assert (wallet.pending, wallet.on_hold, wallet.available) == (usd(0), usd(300), usd(100))
    # The same figures from the accruals themselves, as /cashback lists them.
    accruals = (await shop.cashback.page(ALICE, 0)).items
    held = [accrual for accrual in accruals if accrual.status == "on_hold"]
    assert sum((accrual.amount for accrual in held), usd(0)) == wallet.on_hold
    assert not [accrual for accrual in accruals if accrual.status == "pending"]
    assert wallet.next_release == min(
        held, key=lambda a: (a.hold_until.timestamp() if a.hold_until else 0, a.id)
    )
    assert wallet.next_release is not None and wallet.next_release.order_id == later
    assert wallet.next_release.amount == usd(100)
    summary, page = await shop.cashback.screen(ALICE, 0)
    assert (summary.on_hold, summary.next_release) == (usd(300), wallet.next_release)
    assert page.items == accruals and page.total == len(accruals) == 3  # and the certificate's
    past = await shop.cashback.page(ALICE, 7)  # past the end: no rows, the total still known
    assert (past.items, past.total) == ([], 3)


async def test_a_late_run_releases_everything_that_fell_due_with_one_notice_per_user(
    shop: Shop,
) -> None:
    await shop.pay(ALICE, 20000)
    first = await completed_order(shop, 2000, 10)
    shop.base.clock.advance(timedelta(days=3))
    second = await completed_order(shop, 3000, 10)
    shop.base.clock.advance(timedelta(days=40))  # the bot was down for weeks
    assert await shop.cashback.release_due() == usd(200 + 300)
    notices = await outbox(shop)
    assert [(chat, template) for chat, template, _ in notices] == [
        (ALICE, "notice-cashback-available")
    ]
    assert notices[0][2]["amount"] == {"money": 500, "currency": "USD"}
    assert {first, second} == {a.order_id for a in (await shop.cashback.page(ALICE, 0)).items[:2]}
    await shop.check()


async def test_voided_accruals_say_why(shop: Shop) -> None:
    await shop.pay(ALICE, 10000)
    cancelled = await shop.orders.create(ALICE, "Cup", usd(1000), cashback_percent=Decimal(10))
    await shop.pay_order(ALICE, cancelled.id)
    await shop.orders.cancel(ALICE, cancelled.id)
    disputed = await shop.orders.create(ALICE, "Hat", usd(2000), cashback_percent=Decimal(10))
    await shop.pay_order(ALICE, disputed.id)
    await shop.orders.operator_action(OPERATOR, disputed.id, "shipped")
    await shop.orders.settle_dispute(OPERATOR, disputed.id, won=True)
    charge = await shop.pay(BOB, 5000)
    await shop.certificates.reverse(charge)

    accruals = (await shop.cashback.page(ALICE, 0)).items
    by_order = {a.order_id: (a.status, a.reason, a.amount.minor, a.voided.minor) for a in accruals}
    assert by_order[cancelled.id] == ("voided", "order_cancelled", 0, 100)
    assert by_order[disputed.id] == ("voided", "dispute_won", 0, 200)
    bobs = (await shop.cashback.page(BOB, 0)).items
    assert [(a.status, a.reason, a.voided.minor) for a in bobs] == [("voided", "refunded", 50)]
    await shop.check()


async def test_zero_hold_releases_at_completion(database_url: str) -> None:
    world = Shop(database_url)
    world.cashback = CashbackService(
        world.base.db,
        world.certificates,
        world.security,
        world.base.clock,
        world.cashback.policy.__class__(hold=timedelta(0), withdraw_min=usd(500)),
    )
    world.orders.cashback = world.cashback
    await world.base.open(ALICE)
    try:
        password = await world.security.hash_new_password(PASSWORD)
        answers = tuple([await world.security.hash_answer("x")] * 3)
        await world.security.set_up(ALICE, password, QUESTION_CODES[:3], answers)
        await world.pay(ALICE, 5000)
        await completed_order(world, 1000, 10)
        assert await world.balances(ALICE) == (4000, 0, 50 + 100)
        await world.check()
    finally:
        await world.base.close()


# --- withdrawals ---------------------------------------------------------------------------


async def saved_card(shop: Shop, user_id: int) -> int:
    cards = CardService(shop.base.db, shop.base.clock)
    return (await cards.add(user_id, check_number(VISA), "12/30")).id


async def withdraw(shop: Shop, user_id: int, card_id: int) -> int:
    operation = await shop.cashback.prepare_withdrawal(user_id, card_id)
    await shop.security.confirm_operation(user_id, operation.id, PASSWORD)
    return (await shop.cashback.withdrawal_of(operation)).id


async def test_withdrawal_needs_the_minimum_and_names_it(shop: Shop) -> None:
    card = await saved_card(shop, ALICE)
    await shop.pay(ALICE, 20000)  # $2.00 available, below the $5.00 minimum
    with pytest.raises(CashbackRefused) as refused:
        await shop.cashback.prepare_withdrawal(ALICE, card)
    assert refused.value.reason == "below_minimum"
    assert refused.value.params["minimum"] == usd(500)
    assert await shop.balances(ALICE) == (20000, 0, 200)


async def test_withdrawal_approved_is_paid_once_and_the_user_hears(shop: Shop) -> None:
    card = await saved_card(shop, ALICE)
    await shop.pay(ALICE, 20000)
    await completed_order(shop, 10000, 5)
    shop.base.clock.advance(timedelta(days=14))
    await shop.cashback.release_due()
    assert (await shop.balances(ALICE))[2] == 700
    with pytest.raises(CashbackRefused):  # Bob's card is not Alice's
        await shop.cashback.prepare_withdrawal(ALICE, await saved_card(shop, BOB))

    request = await withdraw(shop, ALICE, card)
    assert (await shop.balances(ALICE))[2] == 0
    operators = [n for n in await outbox(shop) if n[0] == -100]
    # The operators' card, drawn from the request when it goes out.
    assert operators == [(-100, "ops-withdrawal-card", {"request": request})]
    paid = await shop.cashback.decide_withdrawal(OPERATOR, request, approve=True)
    assert (paid.status, paid.decided_by) == ("paid", OPERATOR)
    with pytest.raises(CashbackRefused) as again:  # idempotent on the request id
        await shop.cashback.decide_withdrawal(OPERATOR, request, approve=False, reason="policy")
    assert again.value.params["status"] == "paid"
    cards = await shop.base.fetch(
        "SELECT card, follows_card FROM outbox WHERE chat_id = -100 ORDER BY id"
    )
    assert [(c, bool(f)) for c, f in cards] == [(f"withdrawal:{request}", True)] * 2
    assert (await shop.balances(ALICE))[2] == 0
    assert (await outbox(shop))[-1][:2] == (ALICE, "notice-withdrawal-paid")
    withdrawn = await shop.base.fetch(
        "SELECT balance FROM accounts WHERE kind = 'withdrawals' AND user_id IS NULL"
    )
    assert withdrawn[0]["balance"] == 700
    await shop.check()


async def test_withdrawal_rejected_returns_the_money_with_the_reason(shop: Shop) -> None:
    card = await saved_card(shop, ALICE)
    for minor in (20000, 20000, 10000):  # $5.00 available: exactly the minimum
        await shop.pay(ALICE, minor)
    request = await withdraw(shop, ALICE, card)
    with pytest.raises(CashbackRefused):
        await shop.cashback.decide_withdrawal(OPERATOR, request, approve=False, reason="whim")
    rejected = await shop.cashback.decide_withdrawal(
        OPERATOR, request, approve=False, reason="card_declined"
    )
    assert (rejected.status, rejected.reason) == ("rejected", "card_declined")
    assert (await shop.balances(ALICE))[2] == 500
    template, params = (await outbox(shop))[-1][1:]
    assert template == "notice-withdrawal-rejected" and params["reason"] == "card_declined"
    await shop.check()


async def test_a_second_confirm_of_one_withdrawal_moves_nothing(shop: Shop) -> None:
    card = await saved_card(shop, ALICE)
    for minor in (20000, 20000, 10000):
        await shop.pay(ALICE, minor)
    operation = await shop.cashback.prepare_withdrawal(ALICE, card)
    await shop.security.confirm_operation(ALICE, operation.id, PASSWORD)
    with pytest.raises(Exception):  # noqa: B017 - gone or already done; either way nothing moves
        await shop.security.confirm_operation(ALICE, operation.id, PASSWORD)
    assert len(await shop.cashback.withdrawals()) == 1
    await shop.check()


# --- moving to the balance -------------------------------------------------------------------


async def test_move_to_balance_makes_a_certificate_within_the_cap(shop: Shop) -> None:
    await shop.pay(ALICE, 20000)
    await shop.pay(ALICE, 20000)  # $4.00 cashback available
    operation = await shop.cashback.prepare_move(ALICE)
    assert operation.amount == usd(400)
    await shop.security.confirm_operation(ALICE, operation.id, PASSWORD)
    assert await shop.balances(ALICE) == (40400, 0, 0)
    page = await shop.certificates.page(ALICE, 0)
    assert "cashback" in {certificate.source for certificate in page.page.items}
    with pytest.raises(CashbackRefused) as nothing:
        await shop.cashback.prepare_move(ALICE)
    assert nothing.value.reason == "nothing"
    await shop.check()


async def test_move_to_balance_stops_at_the_cap(database_url: str) -> None:
    world = Shop(database_url, balance_max=usd(20100))
    await world.base.open(ALICE)
    try:
        password = await world.security.hash_new_password(PASSWORD)
        answers = tuple([await world.security.hash_answer("x")] * 3)
        await world.security.set_up(ALICE, password, QUESTION_CODES[:3], answers)
        await world.pay(ALICE, 20000)  # balance $200.00, cashback $2.00, room for $1.00
        first = await world.cashback.prepare_move(ALICE)
        assert await world.cashback.prepare_move(ALICE) == first  # a double tap: one operation
        assert first.amount == usd(100)
        # A move asked for elsewhere meanwhile (another device, say): its own operation.
        second = await world.security.create_operation(
            ALICE, MOVE, key="elsewhere", amount=usd(100)
        )
        await world.security.confirm_operation(ALICE, first.id, PASSWORD)
        with pytest.raises(OperationGone):  # the double tap's confirmation runs nothing
            await world.security.confirm_operation(ALICE, first.id, PASSWORD)
        with pytest.raises(BalanceCapExceeded):  # the room went before this password came
            await world.security.confirm_operation(ALICE, second.id, PASSWORD)
        assert await world.balances(ALICE) == (20100, 0, 100)
        with pytest.raises(CashbackRefused) as refused:
            await world.cashback.prepare_move(ALICE)
        assert refused.value.reason == "cap"
        await world.check()
    finally:
        await world.base.close()


async def test_the_lockout_blocks_withdrawals_and_moves(shop: Shop) -> None:
    card = await saved_card(shop, ALICE)
    for minor in (20000, 20000, 10000):
        await shop.pay(ALICE, minor)
    withdrawal = await shop.cashback.prepare_withdrawal(ALICE, card)
    move = await shop.cashback.prepare_move(ALICE)
    for _ in range(5):
        with pytest.raises((WrongPassword, AccountLocked)):
            await shop.security.confirm_operation(ALICE, withdrawal.id, "wrong password")
    for operation in (withdrawal, move):
        with pytest.raises(AccountLocked):
            await shop.security.confirm_operation(ALICE, operation.id, PASSWORD)
    assert await shop.balances(ALICE) == (50000, 0, 500)
    assert await shop.cashback.withdrawals() == []
