"""Storage on both backends: the migration stairway, the unit of work and its isolation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage.database import Database, open_database, retry_on_conflict
from bot.storage.errors import IntegrityViolation, StorageError, TransientConflict
from bot.storage.migrations import DIALECTS, Migration, load_migrations
from bot.storage.sqlite import SQLiteDatabase

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TABLES = {"users", "accounts", "entries", "postings", "fsm_state", "schema_version"}


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    await database.connect()
    try:
        yield database
    finally:
        await database.close()


async def _tables(db: Database) -> set[str]:
    async with db.read() as uow:
        if db.dialect == "sqlite":
            rows = await uow.session.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = await uow.session.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
    return {row[0] for row in rows}


async def _add_user(db: Database, user_id: int, name: str = "") -> None:
    async with db.unit_of_work() as uow:
        await uow.users.upsert(user_id, name, "en", NOW)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_migrations_are_numbered_without_gaps(dialect: str) -> None:
    migrations = load_migrations(dialect)
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert all(m.sql.strip() for m in migrations)


def test_both_dialects_have_the_same_migrations() -> None:
    names = {d: [(m.version, m.name) for m in load_migrations(d)] for d in DIALECTS}
    assert names["sqlite"] == names["postgresql"]


async def test_stairway_applies_each_migration_in_turn(db: Database) -> None:
    """Each migration on its own, from an empty database, in order; then nothing is left."""
    migrations = load_migrations(db.dialect)
    for step, migration in enumerate(migrations, start=1):
        assert await db.migrate(migrations[:step]) == [migration.version]
        assert await db.current_version() == migration.version
    assert await db.migrate() == []
    assert await _tables(db) >= TABLES


async def test_upgrade_keeps_existing_data(database_url: str) -> None:
    """A database that already holds data survives the later migrations and a restart."""
    first = open_database(database_url)
    await first.connect()
    migrations = load_migrations(first.dialect)
    await first.migrate(migrations[:1])
    async with first.unit_of_work() as uow:  # the first schema's columns, as a bot of then wrote
        await uow.session.execute(
            "INSERT INTO users (id, first_name, client_language, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $4)",
            7,
            "Ann",
            "en",
            NOW,
        )
    await first.close()

    second = open_database(database_url)
    await second.connect()
    try:
        await second.migrate()
        assert await second.current_version() == migrations[-1].version
        async with second.read() as uow:
            user = await uow.users.get(7)
        assert user is not None and user.first_name == "Ann" and user.created_at == NOW
    finally:
        await second.close()


async def test_a_failing_migration_changes_nothing(db: Database) -> None:
    broken = [
        *load_migrations(db.dialect),
        Migration(99, "broken", "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;"),
    ]
    with pytest.raises(StorageError):
        await db.migrate(broken)
    assert "half_done" not in await _tables(db)
    assert await db.current_version() == len(load_migrations(db.dialect))


async def test_unit_of_work_rolls_back_on_error(db: Database) -> None:
    await db.migrate()
    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as uow:
            await uow.users.upsert(1, "", None, NOW)
            raise RuntimeError("boom")
    async with db.read() as uow:
        assert await uow.users.get(1) is None


async def test_repositories_of_one_unit_of_work_commit_together(db: Database) -> None:
    """A user and their accounts: both or neither."""
    await db.migrate()
    with pytest.raises(IntegrityViolation):
        async with db.unit_of_work() as uow:
            await uow.users.upsert(5, "Eve", "en", NOW)
            await uow.ledger.ensure_user_accounts([5], "USD")
            # A row that breaks a constraint makes the whole unit roll back.
            await uow.session.execute(
                "UPDATE accounts SET balance = -1 WHERE user_id = $1 AND kind = 'balance'", 5
            )
    async with db.read() as uow:
        assert await uow.users.get(5) is None
        assert await uow.ledger.user_balances(5) == {}


async def test_a_unit_of_work_is_invisible_to_readers_until_it_commits(db: Database) -> None:
    await db.migrate()
    inside = asyncio.Event()
    release = asyncio.Event()

    async def write() -> None:
        async with db.unit_of_work() as uow:
            await uow.users.upsert(9, "Ivy", None, NOW)
            inside.set()
            await release.wait()

    writer = asyncio.create_task(write())
    await inside.wait()
    async with db.read() as uow:
        assert await uow.users.get(9) is None
    release.set()
    await writer
    async with db.read() as uow:
        assert await uow.users.get(9) is not None


async def test_writes_are_serialized(db: Database) -> None:
    """Many concurrent read-modify-write units of work on one counter: none is lost.

    SQLite has one writer at a time; on PostgreSQL the row lock taken by the first UPDATE
    makes the others wait, which the test forces with an update before the read.
    """
    await db.migrate()
    async with db.unit_of_work() as uow:
        await uow.session.execute(
            "INSERT INTO accounts (user_id, kind, currency, allow_negative)"
            " VALUES (NULL, 'counter', 'USD', TRUE)"
        )

    async def bump() -> None:
        async with db.unit_of_work() as uow:
            await uow.session.execute(
                "UPDATE accounts SET currency = currency WHERE kind = 'counter'"
            )
            value = await uow.session.fetchval(
                "SELECT balance FROM accounts WHERE kind = 'counter'"
            )
            await asyncio.sleep(0)  # let the others try to interleave
            await uow.session.execute(
                "UPDATE accounts SET balance = $1 WHERE kind = 'counter'", value + 1
            )

    await asyncio.gather(*(bump() for _ in range(50)))
    async with db.read() as uow:
        assert (
            await uow.session.fetchval("SELECT balance FROM accounts WHERE kind = 'counter'") == 50
        )


async def test_sqlite_pragmas_are_set(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    db = SQLiteDatabase(tmp_path / "p.sqlite3")
    await db.connect()
    try:
        for reader in (False, True):
            context = db.read() if reader else db.unit_of_work()
            async with context as uow:
                assert await uow.session.fetchval("PRAGMA journal_mode") == "wal"
                assert await uow.session.fetchval("PRAGMA foreign_keys") == 1
                assert await uow.session.fetchval("PRAGMA synchronous") == 1  # NORMAL
    finally:
        await db.close()


async def test_sqlite_reads_run_on_the_loop_and_a_slow_one_moves_to_a_thread(
    tmp_path: Path,
) -> None:
    db = SQLiteDatabase(tmp_path / "r.sqlite3")
    await db.connect()
    # A report of a million rows: far past the loop's budget, so it is interrupted and run again
    # in the reader's thread, with the same answer.
    slow = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)"
        " SELECT COUNT(*), SUM(i) FROM n"
    )
    try:
        async with db.read() as uow:
            assert await uow.session.fetchval("SELECT $1 + 1", 41) == 42
            assert db.reads_moved_to_thread == 0
            row = await uow.session.fetchrow(slow)
        assert row is not None and tuple(row) == (1_000_000, 500_000_500_000)
        assert db.reads_moved_to_thread == 1
        async with db.read() as uow:  # a read is still refused a write
            with pytest.raises(StorageError):
                await uow.session.execute("CREATE TABLE nope (x INTEGER)")
    finally:
        await db.close()


def test_database_urls_pick_the_backend(tmp_path: object) -> None:
    assert open_database("sqlite:///data/x.sqlite3").dialect == "sqlite"
    assert open_database("postgresql://u:p@localhost/db").dialect == "postgresql"
    with pytest.raises(ValueError, match="sqlite:///"):
        open_database("mysql://localhost/db")


async def test_a_transient_conflict_is_retried_then_surfaced() -> None:
    calls: list[int] = []

    @retry_on_conflict(attempts=3, pause=0)
    async def flaky(fail_times: int) -> str:
        calls.append(1)
        if len(calls) <= fail_times:
            raise TransientConflict("deadlock detected")
        return "done"

    assert await flaky(2) == "done" and len(calls) == 3
    calls.clear()
    with pytest.raises(TransientConflict):
        await flaky(5)
    assert len(calls) == 3


async def test_a_real_deadlock_becomes_a_transient_conflict(db: Database) -> None:
    """Two units of work lock two rows in opposite orders: the server picks a victim, and the
    victim sees TransientConflict (the ledger avoids this by posting in account-id order)."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: it cannot deadlock")
    await db.migrate()
    async with db.unit_of_work() as uow:
        await uow.ledger.ensure_system_accounts("USD")
        ids = await uow.ledger.account_ids([("orders", None), ("withdrawals", None)])
    first, second = ids[("orders", None)], ids[("withdrawals", None)]
    both_locked_one = asyncio.Barrier(2)

    async def lock(a: int, b: int) -> None:
        async with db.unit_of_work() as uow:
            await uow.session.execute("UPDATE accounts SET balance = balance WHERE id = $1", a)
            await both_locked_one.wait()
            await uow.session.execute("UPDATE accounts SET balance = balance WHERE id = $1", b)

    results = await asyncio.gather(lock(first, second), lock(second, first), return_exceptions=True)
    assert sum(isinstance(r, TransientConflict) for r in results) == 1
    assert sum(r is None for r in results) == 1
