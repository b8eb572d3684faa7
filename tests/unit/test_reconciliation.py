"""Stars reconciliation's rule on SQLite and PostgreSQL: Telegram's statement and balance against
the ledger, with affiliate commissions as an expense and withdrawals as movements of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.models import ReturnedCharge
from bot.services.reconciliation import (
    NANOS,
    Reconciliation,
    StarMovement,
    StarsStatement,
    StarTransfer,
)
from tests.unit.test_certificates import ALICE, BOB, CAROL, World

STARS_FOR_20_USD = 1000  # policy(): 50 Stars a dollar


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    world = World(database_url)
    await world.base.open(ALICE, BOB, CAROL)
    try:
        yield world
    finally:
        await world.base.close()


def stars(n: float) -> int:
    return round(n * NANOS)


def charge(charge_id: str, net: float, commission: float = 0) -> StarMovement:
    return StarMovement(charge_id, False, ALICE, stars(net), stars(commission))


def refund(charge_id: str, net: float, commission: float = 0) -> StarMovement:
    return StarMovement(charge_id, True, ALICE, stars(net), -stars(commission))


async def test_a_statement_that_matches_the_ledger_has_no_differences(world: World) -> None:
    paid = await world.pay(ALICE, 2000)
    report = await Reconciliation(world.base.db).compare(
        StarsStatement([charge(paid, 1000)], balance=stars(1000))
    )
    assert report.problems == []
    books = report.books
    assert (books.collected, books.refunded, books.commissions) == (stars(1000), 0, 0)
    assert books.income == books.expected == stars(1000)


async def test_an_affiliate_commission_is_an_expense_and_the_balance_still_agrees(
    world: World,
) -> None:
    """Telegram's line carries what reached the bot (net); the affiliate's share is named
    beside it. 10.5% of 1,000 Stars leaves 895 and a fraction of nothing."""
    paid = await world.pay(ALICE, 2000)
    statement = StarsStatement([charge(paid, 895, 105)], balance=stars(895))
    report = await Reconciliation(world.base.db).compare(statement)
    assert report.problems == []
    assert report.books.commissions == stars(105)
    assert report.books.income == stars(895)

    # A line whose two parts add up to more than the buyer was charged is named.
    over = StarsStatement([charge(paid, 1000, 105)], balance=stars(1000))
    problems = (await Reconciliation(world.base.db).compare(over)).problems
    assert [(p.kind, p.charge_id, p.nanos) for p in problems] == [
        ("amount", paid, stars(105)),
        ("balance", "", stars(105)),
    ]


async def test_a_refund_takes_back_the_net_and_the_affiliate_returns_the_share(
    world: World,
) -> None:
    paid = await world.pay(ALICE, 2000)
    assert (await world.certificates.reverse(paid)).reversed
    statement = StarsStatement([charge(paid, 897.5, 102.5), refund(paid, 897.5, 102.5)], balance=0)
    report = await Reconciliation(world.base.db).compare(statement)
    assert report.problems == []
    books = report.books
    assert (books.collected, books.refunded) == (stars(1000), stars(1000))
    assert books.commissions == 0 and books.expected == 0


async def test_withdrawals_and_ads_explain_the_balance_and_an_unexplained_star_does_not(
    world: World,
) -> None:
    first = await world.pay(ALICE, 2000)
    second = await world.pay(BOB, 1000)
    movements = [charge(first, 1000), StarMovement(second, False, BOB, stars(500))]
    transfers = [
        StarTransfer("fragment", -stars(1200)),
        StarTransfer("telegram_ads", -stars(50)),
        StarTransfer("affiliate_program", stars(0.25)),
    ]
    reconciliation = Reconciliation(world.base.db)
    report = await reconciliation.compare(
        StarsStatement(movements, transfers, balance=stars(250.25))
    )
    assert report.problems == []
    assert report.books.transfers == {
        "fragment": -stars(1200),
        "telegram_ads": -stars(50),
        "affiliate_program": stars(0.25),
    }
    short = await reconciliation.compare(StarsStatement(movements, transfers, balance=stars(249)))
    assert [(p.kind, p.nanos) for p in short.problems] == [("balance", -stars(1.25))]
    # A balance that moved while the statement was read is not compared.
    moving = await reconciliation.compare(StarsStatement(movements, transfers, balance=None))
    assert moving.problems == []


async def test_a_returned_second_payment_is_collected_and_refunded(world: World) -> None:
    paid = await world.pay(ALICE, 2000)
    purchase = (await world.certificates.recent_charges(ALICE))[0]
    second = await world.certificates.complete_payment(
        ALICE, purchase.public_id, "XTR", STARS_FOR_20_USD, "charge-again", "p"
    )
    assert isinstance(second, ReturnedCharge)
    reconciliation = Reconciliation(world.base.db)
    movements = [charge(paid, 1000), charge("charge-again", 1000)]
    # Not returned yet: it is named, and Telegram holds the Stars the books count as collected.
    pending = await reconciliation.compare(StarsStatement(movements, balance=stars(2000)))
    assert [(p.kind, p.charge_id) for p in pending.problems] == [("unreturned", "charge-again")]

    await world.certificates.settle_return("charge-again", error=None)
    returned = [*movements, refund("charge-again", 1000)]
    report = await reconciliation.compare(StarsStatement(returned, balance=stars(1000)))
    assert report.problems == []
    assert (report.books.collected, report.books.refunded) == (stars(2000), stars(1000))
