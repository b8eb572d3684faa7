"""SQLite through aiosqlite: one serialized writer, one reader, WAL.

WAL lets the reader see the last committed state while the writer works, so a read never sees
another operation's half-done transaction. Every statement is one hop to aiosqlite's thread
(``execute_fetchall`` runs, fetches and closes in that one hop), so an operation is a handful of
statements, never one per row.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import aiosqlite

from bot.storage.database import Database
from bot.storage.errors import IntegrityViolation, StorageError, StorageUnavailable
from bot.storage.migrations import Migration
from bot.storage.session import Row
from bot.storage.uow import UnitOfWork

_PARAMETER = re.compile(r"\$(\d+)")
# What a full disk, a read-only file or another process holding the lock look like.
_UNAVAILABLE = ("locked", "readonly", "read-only", "disk", "unable to open", "full")


@lru_cache(maxsize=1024)
def _dialect_sql(sql: str) -> str:
    """PostgreSQL's ``$1`` becomes SQLite's ``?1``: same number, same meaning."""
    return _PARAMETER.sub(r"?\1", sql)


def _bind(args: Sequence[Any]) -> tuple[Any, ...]:
    # SQLite has no timestamp type: store ISO 8601 text, which sorts in time order.
    return tuple(a.isoformat() if isinstance(a, datetime) else a for a in args)


def _raise(exc: sqlite3.Error) -> NoReturn:
    if isinstance(exc, sqlite3.IntegrityError):
        raise IntegrityViolation(str(exc)) from exc
    if isinstance(exc, sqlite3.OperationalError) and any(m in str(exc) for m in _UNAVAILABLE):
        raise StorageUnavailable(str(exc)) from exc
    raise StorageError(str(exc)) from exc


class SQLiteSession:
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            rows = await self._conn.execute_fetchall(_dialect_sql(sql), _bind(args))
        except sqlite3.Error as exc:
            _raise(exc)
        return list(rows)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return rows[0][0] if rows else None

    async def execute(self, sql: str, *args: Any) -> None:
        await self.fetch(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(_dialect_sql(sql), [_bind(row) for row in rows])
        except sqlite3.Error as exc:
            _raise(exc)


class SQLiteDatabase(Database):
    dialect: ClassVar[str] = "sqlite"

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    async def connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot create the folder {self.path.parent}: {exc.strerror}"
            ) from None
        try:
            self._writer = await self._open()
            # Read the pragma's row so its statement is finalized; a pending one keeps a lock.
            await self._writer.execute_fetchall("PRAGMA journal_mode=WAL")
            self._reader = await self._open()
        except sqlite3.Error as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open {self.path}: {exc}") from None

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
    def connected(self) -> bool:
        return self._writer is not None

    def _connection(self, conn: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if conn is None:
            raise RuntimeError("the database is not connected")
        return conn

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """BEGIN IMMEDIATE ... COMMIT, one writer at a time in this process; other processes
        wait on SQLite's own lock (busy_timeout)."""
        async with self._write_lock:
            conn = self._connection(self._writer)
            session = SQLiteSession(conn)
            await session.execute("BEGIN IMMEDIATE")
            try:
                yield UnitOfWork(session)
                await session.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    await conn.execute_fetchall("ROLLBACK")
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        yield UnitOfWork(SQLiteSession(self._connection(self._reader)))

    async def current_version(self) -> int:
        session = SQLiteSession(self._connection(self._writer))
        await session.execute(_SCHEMA_VERSION)
        return int(await session.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))

    async def _apply(self, pending: list[Migration]) -> list[int]:
        applied: list[int] = []
        async with self._write_lock:
            writer = self._connection(self._writer)
            current = await self.current_version()
            for migration in pending:
                if migration.version <= current:
                    continue
                now = datetime.now(UTC).isoformat()
                # executescript runs the whole file; BEGIN IMMEDIATE makes it all or nothing.
                script = (
                    "BEGIN IMMEDIATE;\n"
                    f"{migration.sql}\n;\n"
                    "INSERT INTO schema_version (version, name, applied_at) VALUES "
                    f"({migration.version}, '{migration.name}', '{now}');\n"
                    "COMMIT;"
                )
                try:
                    await writer.executescript(script)
                except sqlite3.Error as exc:
                    if writer.in_transaction:
                        await writer.execute_fetchall("ROLLBACK")
                    _raise(exc)
                applied.append(migration.version)
        return applied


_SCHEMA_VERSION = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
