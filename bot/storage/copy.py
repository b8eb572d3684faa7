"""``python -m bot copy-db``: move a SQLite deployment into an empty PostgreSQL database.

One pass, one transaction on the target: every table in foreign-key order, read in pages by
primary key, written with PostgreSQL's COPY. Identity sequences then continue after the copied
ids, and the caller checks the ledger's invariants and the row counts on the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.storage.errors import StorageError
from bot.storage.migrations import load_migrations
from bot.storage.postgres import PostgresDatabase
from bot.storage.sqlite import SQLiteDatabase
from bot.storage.values import as_datetime

# Parents before children. A migration that adds a table adds it here, or copy-db refuses.
# (table, primary key, whether PostgreSQL generates that key from a sequence)
TABLES: tuple[tuple[str, str, bool], ...] = (
    ("users", "id", False),  # Telegram's user id
    ("accounts", "id", True),
    ("entries", "id", True),
    ("postings", "id", True),
    ("fsm_state", "key", False),
    ("inbox", "update_id", False),  # Telegram's update id
    ("security", "user_id", False),
    ("pending_operations", "id", False),  # random text ids
    ("security_audit", "id", True),
    ("cards", "id", True),
    ("support_tickets", "id", True),
    ("support_messages", "operators_message_id", False),
    ("purchases", "id", True),
    ("gifts", "id", True),
    ("certificates", "id", True),
    ("gift_code_failures", "user_id", False),
    ("orders", "id", True),
    ("order_events", "id", True),
    ("order_audit", "id", True),
    ("product_stock", "product_id", False),
    ("cashback_accruals", "id", True),
    ("withdrawals", "id", True),
    ("outbox", "id", True),
    ("notice_muted", "user_id", False),
    ("chat_messages", "id", True),
    ("returned_charges", "charge_id", False),  # Telegram's charge id
    ("app_nonces", "nonce_hash", False),
    ("biometric_devices", "token_hash", False),  # a hash of 256 random bits: unique
)
# Who runs what, held by live processes: nothing to carry to another database.
NOT_COPIED = frozenset({"lanes", "leaders"})
PAGE = 5000


class CopyRefused(StorageError):
    """The source or the target is not what a copy needs; nothing was written."""


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source: int
    target: int


async def _columns(target: PostgresDatabase, table: str) -> list[tuple[str, str]]:
    async with target.read() as uow:
        rows = await uow.session.fetch(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            table,
        )
    return [(row[0], row[1]) for row in rows]


def _converter(data_type: str) -> Callable[[Any], Any]:
    """SQLite keeps times as ISO text and flags as 0/1; PostgreSQL wants the real types."""
    if data_type.startswith("timestamp"):
        return lambda v: None if v is None else as_datetime(v)
    if data_type == "boolean":
        return lambda v: None if v is None else bool(v)
    return lambda v: v


async def _table_names(source: SQLiteDatabase) -> set[str]:
    async with source.read() as uow:
        rows = await uow.session.fetch(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    return {row[0] for row in rows} - {"schema_version"}


async def _count(db: SQLiteDatabase | PostgresDatabase, table: str) -> int:
    async with db.read() as uow:
        return int(await uow.session.fetchval(f"SELECT COUNT(*) FROM {table}"))


async def copy_database(source: SQLiteDatabase, target: PostgresDatabase) -> list[TableCount]:
    """Copy every row; both databases are connected, the target migrated. Returns the counts."""
    latest = load_migrations("sqlite")[-1].version
    if await source.current_version() != latest:
        raise CopyRefused(
            f"the source is at schema version {await source.current_version()}, not {latest}:"
            " run `python -m bot migrate` on it first"
        )
    unknown = await _table_names(source) - {name for name, _, _ in TABLES} - NOT_COPIED
    if unknown:
        raise CopyRefused(f"copy-db does not know the tables {sorted(unknown)}")
    for table, _, _ in TABLES:
        if await _count(target, table):
            raise CopyRefused(f"the target is not empty: {table} has rows")

    async with target.pool.acquire() as conn, conn.transaction():
        for table, key, generated in TABLES:
            columns = await _columns(target, table)
            names = [name for name, _ in columns]
            convert = [_converter(data_type) for _, data_type in columns]
            select = f"SELECT {', '.join(names)} FROM {table}"
            last: Any = None
            while True:
                async with source.read() as uow:
                    if last is None:
                        rows = await uow.session.fetch(f"{select} ORDER BY {key} LIMIT $1", PAGE)
                    else:
                        rows = await uow.session.fetch(
                            f"{select} WHERE {key} > $1 ORDER BY {key} LIMIT $2", last, PAGE
                        )
                if not rows:
                    break
                records = [
                    tuple(f(value) for f, value in zip(convert, row, strict=True)) for row in rows
                ]
                await conn.copy_records_to_table(table, records=records, columns=names)
                last = rows[-1][key]
            if generated:
                # Identity columns continue after the copied ids, not at 1.
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {table}), 1),"
                    f" (SELECT MAX(id) FROM {table}) IS NOT NULL)"
                )
    return [
        TableCount(table, await _count(source, table), await _count(target, table))
        for table, _, _ in TABLES
    ]
