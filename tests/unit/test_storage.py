"""Storage: the migration stairway, transactions and the one serialized writer."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.database import Database, Migration, load_migrations


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "test.sqlite3")
    await database.connect()
    try:
        yield database
    finally:
        await database.close()


async def _tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


def test_migrations_are_numbered_without_gaps() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert all(m.sql.strip() for m in migrations)


async def test_stairway_applies_each_migration_in_turn(db: Database) -> None:
    """Each migration on its own, from an empty file, in order; then nothing is left to do."""
    migrations = load_migrations()
    for step, migration in enumerate(migrations, start=1):
        assert await db.migrate(migrations[:step]) == [migration.version]
        assert await db.current_version() == migration.version
    assert await db.migrate() == []
    tables = {"users", "accounts", "entries", "postings", "fsm_state", "schema_version"}
    assert tables <= await _tables(db)


async def test_pragmas_are_set(db: Database) -> None:
    for conn in (db.writer, db.reader):
        async with conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
        async with conn.execute("PRAGMA synchronous") as cur:
            assert (await cur.fetchone())[0] == 1  # NORMAL


async def test_upgrade_keeps_existing_data(tmp_path: Path) -> None:
    """A database that already holds data survives the later migrations and a restart."""
    path = tmp_path / "upgrade.sqlite3"
    migrations = load_migrations()
    first = Database(path)
    await first.connect()
    await first.migrate(migrations[:1])
    async with first.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (id, first_name, created_at, updated_at) VALUES (7, 'Ann', 'x', 'x')"
        )
    await first.close()

    second = Database(path)
    await second.connect()
    try:
        await second.migrate()
        assert await second.current_version() == migrations[-1].version
        row = await second.fetchone("SELECT first_name FROM users WHERE id = 7")
        assert row is not None and row["first_name"] == "Ann"
    finally:
        await second.close()


async def test_a_failing_migration_changes_nothing(db: Database) -> None:
    broken = [
        *load_migrations(),
        Migration(99, "broken", "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;"),
    ]
    with pytest.raises(sqlite3.OperationalError):
        await db.migrate(broken)
    assert "half_done" not in await _tables(db)
    assert await db.current_version() == len(load_migrations())


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    await db.migrate()
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO users (id, first_name, created_at, updated_at) VALUES (1, '', '', '')"
            )
            raise RuntimeError("boom")
    assert await db.fetchone("SELECT id FROM users WHERE id = 1") is None


async def test_writes_are_serialized(db: Database) -> None:
    """Many concurrent read-modify-write transactions: none is lost, none sees a half state."""
    await db.migrate()
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO accounts (user_id, kind, currency, allow_negative)"
            " VALUES (NULL, 'counter', 'USD', 1)"
        )

    async def bump() -> None:
        async with db.transaction() as conn:
            async with conn.execute("SELECT balance FROM accounts WHERE kind = 'counter'") as cur:
                value = (await cur.fetchone())[0]
            await asyncio.sleep(0)  # let the others try to interleave
            await conn.execute(
                "UPDATE accounts SET balance = ? WHERE kind = 'counter'", (value + 1,)
            )

    await asyncio.gather(*(bump() for _ in range(50)))
    row = await db.fetchone("SELECT balance FROM accounts WHERE kind = 'counter'")
    assert row is not None and row["balance"] == 50
