"""The hot queries use an index on both backends: a scan here would hold SQLite's write lock
for milliseconds per payment once the tables are large (44 payments/s at 1M postings).

The statements are recorded as the repositories really send them, then explained. On
PostgreSQL sequential scans are switched off for the EXPLAIN, so the plan shows whether an
index *can* serve the query, whatever the planner prefers on a tiny table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import pytest

from bot.domain.money import Money
from bot.services.ledger import ORDERS, TELEGRAM_PAYMENTS, Account
from bot.storage.session import Row, Session
from bot.storage.sqlite import _dialect_sql
from bot.storage.uow import UnitOfWork
from tests.unit.ledger_support import LedgerWorld

ANN = 11


class RecordingSession:
    """Passes every statement on, and remembers it with its arguments."""

    def __init__(self, inner: Session) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        self.statements.append((sql, args))
        return await self.inner.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        self.statements.append((sql, args))
        return await self.inner.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.statements.append((sql, args))
        return await self.inner.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> None:
        self.statements.append((sql, args))
        await self.inner.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        self.statements.append((sql, tuple(rows[0])))
        await self.inner.executemany(sql, rows)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[LedgerWorld]:
    opened = await LedgerWorld(database_url).open(ANN, 12, 13)
    await opened.transfer(
        "tg-charge:0",
        "certificate_purchase",
        TELEGRAM_PAYMENTS,
        Account.balance(ANN),
        Money(5000, "USD"),
        user_id=ANN,
    )
    try:
        yield opened
    finally:
        await opened.close()


async def _hot_statements(world: LedgerWorld) -> list[tuple[str, tuple[Any, ...]]]:
    """What a returning user's update, a balance check, /cashback and /orders pages, a payment
    and a history page send."""
    async with world.db.unit_of_work() as uow:
        recording = RecordingSession(uow.session)
        recorded = UnitOfWork(recording, world.db.currency)
        await recorded.users.get(ANN)
        await recorded.ledger.user_balances(ANN)
        await recorded.cashback.wallet(ANN)
        await recorded.cashback.page(ANN, 5, 0)  # /cashback's page with its total
        await recorded.orders.page(ANN, 5, 0)  # /orders' page with its total
        await world.ledger.transfer(
            recorded,
            "order-pay:1",
            "order_payment",
            Account.balance(ANN),
            ORDERS,
            Money(1201, "USD"),
            user_id=ANN,
        )
        await world.ledger.transfer(  # the same payment re-delivered
            recorded,
            "order-pay:1",
            "order_payment",
            Account.balance(ANN),
            ORDERS,
            Money(1201, "USD"),
            user_id=ANN,
        )
        await recorded.ledger.history(ANN, 20, None)
        await recorded.ledger.history(ANN, 20, 2)
        await recorded.fsm.row("1:11:11")
    return recording.statements


async def _plan(world: LedgerWorld, sql: str, args: tuple[Any, ...]) -> list[str]:
    async with world.db.unit_of_work() as uow:
        if uow.session.dialect == "sqlite":
            rows = await uow.session.fetch(f"EXPLAIN QUERY PLAN {sql}", *args)
            return [str(row[3]) for row in rows]
        await uow.session.execute("SET LOCAL enable_seqscan = off")
        rows = await uow.session.fetch(f"EXPLAIN {sql}", *args)
        return [str(row[0]) for row in rows]


def _scans(dialect: str, plan: list[str]) -> list[str]:
    if dialect == "sqlite":
        # "SCAN t" reads the whole table; "SEARCH t USING ... INDEX" does not. A subquery's
        # own rows ("CO-ROUTINE n", "MATERIALIZE n", then "SCAN n") are no table.
        own = {line.split()[1] for line in plan if line.startswith(("CO-ROUTINE ", "MATERIALIZE "))}
        return [
            line
            for line in plan
            if line.startswith("SCAN ") and "CONSTANT" not in line and line.split()[1] not in own
        ]
    return [line for line in plan if "Seq Scan" in line]


async def test_hot_queries_use_an_index(world: LedgerWorld) -> None:
    statements = await _hot_statements(world)
    assert len(statements) >= 10
    dialect = world.db.dialect
    problems = {}
    for sql, args in statements:
        if sql.lstrip().upper().startswith("INSERT") and "SELECT" not in sql.upper():
            continue  # a plain INSERT reads nothing; its unique index is checked by the server
        plan = await _plan(world, sql, args)
        if _scans(dialect, plan):
            problems[" ".join(sql.split())] = plan
    assert problems == {}


async def test_the_check_catches_a_scan(world: LedgerWorld) -> None:
    """``user_id IS $1`` matches neither partial index: the check must notice."""
    sql = "SELECT id FROM accounts WHERE kind = $1 AND user_id IS NOT DISTINCT FROM $2"
    if world.db.dialect == "sqlite":
        sql = "SELECT id FROM accounts WHERE kind = $1 AND user_id IS $2"
    plan = await _plan(world, sql, ("balance", ANN))
    assert _scans(world.db.dialect, plan), plan


def test_sqlite_parameters_keep_their_numbers() -> None:
    assert _dialect_sql("a = $1 AND b = $2 OR c = $1") == "a = ?1 AND b = ?2 OR c = ?1"
