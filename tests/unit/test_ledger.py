"""Each rule of the double-entry ledger, against a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.domain.errors import IdempotencyConflict, InsufficientFunds
from bot.domain.money import Money
from bot.services.ledger import (
    ORDERS,
    TELEGRAM_PAYMENTS,
    Account,
    Leg,
)
from bot.storage.errors import IntegrityViolation
from tests.unit.ledger_support import LedgerWorld

ANN, BOB = 11, 22


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[LedgerWorld]:
    opened = await LedgerWorld(database_url).open(ANN, BOB)
    try:
        yield opened
    finally:
        await opened.close()


async def fund(world: LedgerWorld, user_id: int, minor: int, key: str) -> None:
    await world.transfer(
        key,
        "certificate_purchase",
        TELEGRAM_PAYMENTS,
        Account.balance(user_id),
        usd(minor),
        user_id=user_id,
    )


async def test_new_user_has_three_zero_balances(world: LedgerWorld) -> None:
    balances = await world.ledger.balances(ANN)
    assert (balances.balance, balances.cashback_pending, balances.cashback_available) == (
        usd(0),
        usd(0),
        usd(0),
    )


async def test_partial_deduction_leaves_the_rest(world: LedgerWorld) -> None:
    """Three certificates worth $160 pay a $147.99 order and leave $12.01."""
    for n, minor in enumerate((5000, 5000, 6000)):
        await fund(world, ANN, minor, f"tg-charge:c{n}")
    await world.transfer(
        "order-pay:1", "order_payment", Account.balance(ANN), ORDERS, usd(14799), user_id=ANN
    )
    assert (await world.ledger.balances(ANN)).balance == usd(1201)
    assert await world.ledger.check_invariants() == []


async def test_same_key_twice_is_a_no_op_returning_the_first_result(world: LedgerWorld) -> None:
    legs = [Leg(TELEGRAM_PAYMENTS, usd(-2500)), Leg(Account.balance(ANN), usd(2500))]
    first = await world.post("tg-charge:abc", "certificate_purchase", legs, user_id=ANN)
    second = await world.post("tg-charge:abc", "certificate_purchase", legs, user_id=ANN)
    assert first.created and not second.created
    assert second.entry_id == first.entry_id
    assert (await world.ledger.balances(ANN)).balance == usd(2500)
    rows = await world.fetch("SELECT id FROM entries")
    assert len(rows) == 1


async def test_key_reused_for_another_operation_is_refused(world: LedgerWorld) -> None:
    await fund(world, ANN, 2500, "tg-charge:abc")
    with pytest.raises(IdempotencyConflict):
        await fund(world, ANN, 9999, "tg-charge:abc")
    assert (await world.ledger.balances(ANN)).balance == usd(2500)


async def test_debit_beyond_the_balance_raises_and_changes_nothing(world: LedgerWorld) -> None:
    await fund(world, ANN, 1000, "tg-charge:1")
    with pytest.raises(InsufficientFunds) as info:
        await world.transfer(
            "order-pay:7", "order_payment", Account.balance(ANN), ORDERS, usd(1001), user_id=ANN
        )
    assert info.value.params == {"needed": usd(1001), "available": usd(1000)}
    assert (await world.ledger.balances(ANN)).balance == usd(1000)
    assert await world.fetch("SELECT id FROM entries WHERE idempotency_key = 'order-pay:7'") == []
    # The refused key stays free: paying the same order once there is money works.
    await fund(world, ANN, 1, "tg-charge:2")
    result = await world.transfer(
        "order-pay:7", "order_payment", Account.balance(ANN), ORDERS, usd(1001), user_id=ANN
    )
    assert result.created


async def test_multi_leg_entry_is_all_or_nothing(world: LedgerWorld) -> None:
    """A purchase that credits the balance and cashback, with one leg failing, leaves nothing."""
    await fund(world, ANN, 500, "tg-charge:1")
    legs = [
        Leg(Account.balance(ANN), usd(-400)),
        Leg(Account.cashback_available(ANN), usd(-100)),  # has nothing: fails
        Leg(ORDERS, usd(500)),
    ]
    with pytest.raises(InsufficientFunds):
        await world.post("order-pay:2", "order_payment", legs, user_id=ANN)
    assert (await world.ledger.balances(ANN)).balance == usd(500)
    assert await world.ledger.check_invariants() == []


async def test_a_debit_cannot_borrow_from_a_credit_in_the_same_entry(world: LedgerWorld) -> None:
    legs = [Leg(Account.balance(ANN), usd(500)), Leg(Account.cashback_available(ANN), usd(-500))]
    with pytest.raises(InsufficientFunds):
        await world.post("odd:1", "conversion", legs, user_id=ANN)


@pytest.mark.parametrize(
    ("legs", "message"),
    [
        ([Leg(Account.balance(ANN), usd(5))], "at least two legs"),
        ([Leg(Account.balance(ANN), usd(5)), Leg(ORDERS, usd(-4))], "sum to zero"),
        ([Leg(Account.balance(ANN), usd(0)), Leg(ORDERS, usd(0))], "must move money"),
        ([Leg(Account.balance(ANN), Money(5, "EUR")), Leg(ORDERS, Money(-5, "EUR"))], "currency"),
        ([Leg(ORDERS, usd(5)), Leg(ORDERS, usd(-5))], "appears twice"),
    ],
)
async def test_malformed_entries_are_refused(
    world: LedgerWorld, legs: list[Leg], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await world.post("bad", "bad", legs)
    assert await world.fetch("SELECT id FROM entries") == []


async def test_unknown_account_is_refused(world: LedgerWorld) -> None:
    with pytest.raises(LookupError):
        await world.transfer("x", "x", TELEGRAM_PAYMENTS, Account.balance(999), usd(5), user_id=999)


async def test_transfer_needs_a_positive_amount(world: LedgerWorld) -> None:
    with pytest.raises(ValueError, match="positive"):
        await world.transfer("x", "x", TELEGRAM_PAYMENTS, Account.balance(ANN), usd(-5))


async def test_check_constraint_backs_up_the_conditional_update(world: LedgerWorld) -> None:
    """Even SQL that skips the repository cannot make a user account negative."""
    with pytest.raises(IntegrityViolation, match=r"(?i)check"):
        await world.execute(
            "UPDATE accounts SET balance = -1 WHERE user_id = $1 AND kind = 'balance'", ANN
        )
    assert (await world.ledger.balances(ANN)).balance == usd(0)


async def test_cached_balances_move_with_their_postings(world: LedgerWorld) -> None:
    await fund(world, ANN, 1500, "tg-charge:1")
    await world.transfer(
        "conv:1", "x", Account.balance(ANN), Account.cashback_pending(ANN), usd(200), user_id=ANN
    )
    history = await world.ledger.history(ANN)
    assert [(h.account, h.amount.minor, h.balance_after.minor) for h in history] == [
        ("cashback_pending", 200, 200),
        ("balance", -200, 1300),
        ("balance", 1500, 1500),
    ]
    assert await world.ledger.check_invariants() == []


async def test_check_invariants_reports_drift(world: LedgerWorld) -> None:
    await fund(world, ANN, 1500, "tg-charge:1")
    await world.execute(
        "UPDATE accounts SET balance = 7 WHERE user_id = $1 AND kind = 'balance'", ANN
    )
    problems = await world.ledger.check_invariants()
    assert len(problems) == 1 and "caches 7" in problems[0]


async def test_two_concurrent_debits_only_one_fits(world: LedgerWorld) -> None:
    await fund(world, ANN, 1000, "tg-charge:1")

    async def pay(order: int) -> bool:
        try:
            await world.transfer(
                f"order-pay:{order}",
                "order_payment",
                Account.balance(ANN),
                ORDERS,
                usd(700),
                user_id=ANN,
            )
        except InsufficientFunds:
            return False
        return True

    results = await asyncio.gather(pay(1), pay(2))
    assert sorted(results) == [False, True]
    assert (await world.ledger.balances(ANN)).balance == usd(300)
    assert await world.ledger.check_invariants() == []


async def test_concurrent_debits_from_two_processes_keep_the_balance(
    world: LedgerWorld, database_url: str
) -> None:
    """A second Database on the same data (another process, say): SQLite holds it off with
    BEGIN IMMEDIATE, PostgreSQL with the conditional update on the locked row."""
    await fund(world, ANN, 1000, "tg-charge:1")
    other = LedgerWorld(database_url)
    await other.db.connect()
    try:

        async def pay(w: LedgerWorld, order: int) -> bool:
            try:
                await w.transfer(
                    f"order-pay:{order}",
                    "order_payment",
                    Account.balance(ANN),
                    ORDERS,
                    usd(600),
                    user_id=ANN,
                )
            except InsufficientFunds:
                return False
            return True

        results = await asyncio.gather(pay(world, 1), pay(other, 2))
    finally:
        await other.db.close()
    assert sorted(results) == [False, True]
    assert (await world.ledger.balances(ANN)).balance == usd(400)


async def test_debits_from_many_connections_succeed_exactly_as_far_as_the_money_goes(
    world: LedgerWorld, database_url: str
) -> None:
    """Eight writers, each its own connection, each paying $3 from $10: exactly three succeed,
    and the balance, the postings and the cached total agree afterwards."""
    await fund(world, ANN, 1000, "tg-charge:1")
    others = [LedgerWorld(database_url) for _ in range(8)]
    for other in others:
        await other.db.connect()
    try:

        async def pay(w: LedgerWorld, order: int) -> bool:
            try:
                await w.transfer(
                    f"order-pay:{order}",
                    "order_payment",
                    Account.balance(ANN),
                    ORDERS,
                    usd(300),
                    user_id=ANN,
                )
            except InsufficientFunds:
                return False
            return True

        results = await asyncio.gather(*(pay(w, n) for n, w in enumerate(others)))
    finally:
        for other in others:
            await other.db.close()
    assert results.count(True) == 3
    assert (await world.ledger.balances(ANN)).balance == usd(100)
    assert len(await world.fetch("SELECT id FROM entries WHERE kind = 'order_payment'")) == 3
    assert await world.ledger.check_invariants() == []
