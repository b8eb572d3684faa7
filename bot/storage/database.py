"""SQLite through aiosqlite: one serialized writer, one reader, numbered migrations.

WAL lets the reader see the last committed state while the writer works, so a read never sees
another operation's half-done transaction.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class Migration:
    __slots__ = ("name", "sql", "version")

    def __init__(self, version: int, name: str, sql: str) -> None:
        self.version = version
        self.name = name
        self.sql = sql


def load_migrations() -> list[Migration]:
    """Migrations shipped in ``bot/storage/migrations``, in version order."""
    found: list[Migration] = []
    for item in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(item.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), item.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 001.. without gaps, got {versions}")
    return found


class Database:
    """Owns the connections. Writes go through :meth:`transaction`, one at a time."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open()
        # Read the pragma's row so its statement is finalized; a pending one keeps a lock.
        async with self._writer.execute("PRAGMA journal_mode=WAL") as cursor:
            await cursor.fetchall()
        self._reader = await self._open()

    async def _open(self) -> aiosqlite.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=self._busy_timeout_ms / 1000
        )
        conn.row_factory = sqlite3.Row
        await conn.executescript(
            f"""
            PRAGMA synchronous=NORMAL;
            PRAGMA foreign_keys=ON;
            PRAGMA busy_timeout={int(self._busy_timeout_ms)};
            """
        )
        return conn

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("Database is not connected")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("Database is not connected")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One business operation: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""
        async with self._write_lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self.reader.execute(sql, params) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    # --- migrations -------------------------------------------------------------------------

    async def current_version(self) -> int:
        conn = self.writer
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[int]:
        """Apply pending migrations in order, each in its own transaction. Returns versions."""
        pending = list(load_migrations() if migrations is None else migrations)
        applied: list[int] = []
        async with self._write_lock:
            current = await self.current_version()
            for migration in pending:
                if migration.version <= current:
                    continue
                now = datetime.now(UTC).isoformat()
                script = (
                    "BEGIN IMMEDIATE;\n"
                    f"{migration.sql}\n;\n"
                    "INSERT INTO schema_version (version, name, applied_at) VALUES "
                    f"({migration.version}, '{migration.name}', '{now}');\n"
                    "COMMIT;"
                )
                try:
                    await self.writer.executescript(script)
                except sqlite3.Error:
                    if self.writer.in_transaction:
                        await self.writer.execute("ROLLBACK")
                    raise
                applied.append(migration.version)
                log.info(
                    "event=migration_applied version=%d name=%s", migration.version, migration.name
                )
        return applied
