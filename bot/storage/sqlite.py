"""SQLite: one serialized writer, readers on the loop with aiosqlite's thread behind them, WAL.

WAL lets a reader see the last committed state while the writer works, so a read never sees
another operation's half-done transaction, and never waits for the writer. A read runs on the
event loop itself (see LoopReader): the hot reads are index lookups of microseconds, less
than a hop to a thread and back. One that runs longer than LOOP_READ_BUDGET is interrupted and
run again in aiosqlite's thread, so a report or an export never holds up the loop. A unit of work
takes the write lock and commits in a thread, and runs its own short statements on the loop in
between (see SQLiteWriteSession): a payment costs two hops instead of one per statement.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TypeVar

import aiosqlite

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from bot.storage.database import Database
from bot.storage.errors import IntegrityViolation, StorageError, StorageUnavailable
from bot.storage.migrations import Migration
from bot.storage.session import Row
from bot.storage.uow import UnitOfWork

T = TypeVar("T")
log = logging.getLogger(__name__)
# Commits between two WAL checkpoints: about SQLite's own default of 1000 pages.
CHECKPOINT_EVERY = 500
_PARAMETER = re.compile(r"\$(\d+)")
# How long a read may run on the event loop before it is moved to a thread. Hot reads (a balance,
# a user, a page of history) take tens of microseconds; this only stops the rare long one.
LOOP_READ_BUDGET = 0.002
# SQLite virtual-machine steps between two looks at the clock while a read runs on the loop.
_PROGRESS_STEPS = 5000
# What a full disk, a read-only file or another process holding the lock look like.
_UNAVAILABLE = ("locked", "readonly", "read-only", "disk", "unable to open", "full")


@lru_cache(maxsize=1024)
def _dialect_sql(sql: str) -> str:
    """PostgreSQL's ``$1`` becomes SQLite's ``?1``: same number, same meaning."""
    return _PARAMETER.sub(r"?\1", sql)


def _bind(args: Sequence[Any]) -> tuple[Any, ...]:
    # SQLite has no timestamp type: store ISO 8601 text, which sorts in time order.
    return tuple(a.isoformat() if isinstance(a, datetime) else a for a in args)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _raise(exc: sqlite3.Error) -> NoReturn:
    if isinstance(exc, sqlite3.IntegrityError):
        raise IntegrityViolation(str(exc)) from exc
    if isinstance(exc, sqlite3.OperationalError) and any(m in str(exc) for m in _UNAVAILABLE):
        raise StorageUnavailable(str(exc)) from exc
    raise StorageError(str(exc)) from exc


# Columns that hold moments: SQLite keeps them as ISO 8601 text (see _bind), and the session
# hands them back as datetimes, as asyncpg does, so no repository decodes them.
_MOMENT = re.compile(r"(_at|_until|_started)\b")


class DecodedRow:
    """A row with its moments decoded, read by position or by name like ``sqlite3.Row``."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: list[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        return self._values[key if isinstance(key, int) else self._index[key]]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._index)


@lru_cache(maxsize=512)
def _moment_columns(names: tuple[str, ...]) -> tuple[tuple[int, ...], dict[str, int]]:
    """Which columns of a result hold moments, and each column's position: once per shape."""
    moments = tuple(i for i, name in enumerate(names) if _MOMENT.search(name))
    return moments, {name: i for i, name in enumerate(names)}


def _decoded(rows: list[sqlite3.Row]) -> list[Row]:
    """The rows, their moment columns as datetimes; rows without one are passed through."""
    if not rows:
        return []
    moments, index = _moment_columns(tuple(rows[0].keys()))
    if not moments:
        return list(rows)
    decoded: list[Row] = []
    for row in rows:
        values = list(row)
        for i in moments:
            if isinstance(values[i], str):
                values[i] = datetime.fromisoformat(values[i])
        decoded.append(DecodedRow(values, index))
    return decoded


class LoopReader:
    """A read-only connection used on the event loop, one statement at a time, that gives up
    (returns None) on a statement running past its budget or on a busy database."""

    def __init__(self, conn: sqlite3.Connection, budget: float) -> None:
        self._conn = conn
        self._budget = budget
        self._deadline = 0.0
        self.moved = 0  # reads handed to the thread: for benchmarks and logs
        conn.set_progress_handler(self._over_budget, _PROGRESS_STEPS)

    def _over_budget(self) -> int:
        return int(time.perf_counter() > self._deadline)

    def fetch(self, sql: str, params: tuple[Any, ...]) -> list[Row] | None:
        self._deadline = time.perf_counter() + self._budget
        try:
            return _decoded(self._conn.execute(sql, params).fetchall())
        except sqlite3.OperationalError as exc:
            if "interrupted" not in str(exc) and not _is_busy(exc):
                _raise(exc)
        except sqlite3.Error as exc:
            _raise(exc)
        self.moved += 1
        return None

    def close(self) -> None:
        self._conn.close()


class SQLiteSession:
    """Reads on the loop (see LoopReader); a slow or blocked one again in aiosqlite's thread."""

    dialect = "sqlite"

    def __init__(self, loop_reader: LoopReader, conn: aiosqlite.Connection) -> None:
        self._loop_reader = loop_reader
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        sql, params = _dialect_sql(sql), _bind(args)
        rows = self._loop_reader.fetch(sql, params)
        if rows is not None:
            return rows
        try:
            return _decoded(list(await self._conn.execute_fetchall(sql, params)))
        except sqlite3.Error as exc:
            _raise(exc)

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


class SQLiteWriteSession:
    """Statements of an open write transaction, run on the event loop itself.

    Once BEGIN IMMEDIATE holds SQLite's write lock, a statement can no longer wait for another
    connection (in WAL mode readers never block the writer), and the ledger's statements are
    single-row lookups and updates by index that take microseconds: less than a hop to a thread
    and back. Taking the lock and committing (which may checkpoint the WAL to disk) still run in
    a thread, so the loop never waits for another process or for the disk.
    """

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            return _decoded(self._conn.execute(_dialect_sql(sql), _bind(args)).fetchall())
        except sqlite3.Error as exc:
            _raise(exc)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchrow(sql, *args)
        return row[0] if row is not None else None

    async def execute(self, sql: str, *args: Any) -> None:
        await self.fetch(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(_dialect_sql(sql), [_bind(row) for row in rows])
        except sqlite3.Error as exc:
            _raise(exc)


class SQLiteDatabase(Database):
    """One writer connection, used by one unit of work at a time; one reader for the rest."""

    dialect: ClassVar[str] = "sqlite"

    def __init__(
        self, path: Path, *, busy_timeout_ms: int = 5000, loop_read_budget: float = LOOP_READ_BUDGET
    ) -> None:
        self.path = path
        self._sole_use: int | None = None  # the lock file's descriptor while held
        self._busy_timeout_ms = busy_timeout_ms
        self._loop_read_budget = loop_read_budget
        self._writer: sqlite3.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._loop_reader: LoopReader | None = None
        self._write_lock = asyncio.Lock()
        # The writer's own thread for what may wait (the lock, the disk): a shared pool could
        # fill up with writers waiting for a lock that only a queued commit would release.
        self._writer_thread: ThreadPoolExecutor | None = None
        self._commits = 0
        self._checkpointing: asyncio.Task[None] | None = None

    async def _in_writer_thread(self, function: Callable[..., T], *args: Any) -> T:
        if self._writer_thread is None:
            raise RuntimeError("the database is not connected")
        return await asyncio.get_running_loop().run_in_executor(
            self._writer_thread, function, *args
        )

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
            self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
            self._writer = await self._in_writer_thread(self._open_writer)
            self._reader = await aiosqlite.connect(
                self.path, isolation_level=None, timeout=self._busy_timeout_ms / 1000
            )
            self._reader.row_factory = sqlite3.Row
            await self._reader.executescript(self._pragmas(self._busy_timeout_ms))
            self._loop_reader = LoopReader(
                await self._in_writer_thread(self._open_loop_reader), self._loop_read_budget
            )
        except sqlite3.Error as exc:
            await self.close()
            raise StorageUnavailable(f"cannot open {self.path}: {exc}") from None

    @staticmethod
    def _pragmas(busy_timeout_ms: int) -> str:
        return (
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            f" PRAGMA busy_timeout={int(busy_timeout_ms)};"
        )

    def _open_writer(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves. Used from the loop and from
        # the writer's thread, one at a time (the write lock), hence check_same_thread=False.
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=0, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL").fetchall()
        conn.executescript(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=0;"
            # Checkpoints run in the writer's thread (see _checkpoint), never inside COMMIT.
            " PRAGMA wal_autocheckpoint=0;"
        )
        return conn

    def _open_loop_reader(self) -> sqlite3.Connection:
        # Never waits for a lock on the loop (busy_timeout=0): a busy read goes to the thread.
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=0, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.executescript(self._pragmas(0) + " PRAGMA query_only=ON;")
        return conn

    @property
    def reads_moved_to_thread(self) -> int:
        return self._loop_reader.moved if self._loop_reader is not None else 0

    async def backup_into(self, target: Path) -> None:
        """An online copy into ``target`` (a new file): SQLite's backup API copies a consistent
        snapshot while the bot goes on writing."""

        def copy() -> str | None:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with (
                    closing(sqlite3.connect(self.path)) as source,
                    closing(sqlite3.connect(target)) as copied,
                ):
                    source.backup(copied)
            except (sqlite3.Error, OSError) as exc:
                target.unlink(missing_ok=True)
                return str(exc)
            return None

        failure = await asyncio.to_thread(copy)
        if failure is not None:
            raise StorageUnavailable(f"the copy failed: {failure}")

    def hold_sole_use(self) -> None:
        """One bot process per file: a lock beside it, held while connected, let go when the
        process ends however it ends. A second process refuses to start."""
        if fcntl is None or self._sole_use is not None:
            return  # Windows: no flock; one process is the rule there too, unenforced
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(descriptor)
            raise StorageUnavailable(
                f"another bot process is running on {self.path}; SQLite serves one process:"
                " stop that one, or run replicas on PostgreSQL (DATABASE_URL) with REDIS_URL"
            ) from None
        self._sole_use = descriptor

    async def close(self) -> None:
        if self._sole_use is not None:
            os.close(self._sole_use)  # lets go of the lock
            self._sole_use = None
        if self._checkpointing is not None:
            await self._checkpointing
        if self._loop_reader is not None:
            self._loop_reader.close()
        if self._reader is not None:
            await self._reader.close()
        if self._writer is not None:
            async with self._write_lock:
                await self._in_writer_thread(self._writer.close)
        if self._writer_thread is not None:
            self._writer_thread.shutdown(wait=False)
        self._reader = self._writer = self._writer_thread = self._loop_reader = None

    @property
    def connected(self) -> bool:
        return self._writer is not None

    def _writer_connection(self) -> sqlite3.Connection:
        if self._writer is None:
            raise RuntimeError("the database is not connected")
        return self._writer

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """BEGIN IMMEDIATE ... COMMIT, one writer at a time in this process; other processes
        wait on SQLite's own lock (busy_timeout), in a thread."""
        async with self._write_lock:
            conn = self._writer_connection()
            await self._without_waiting_if_possible(conn, "BEGIN IMMEDIATE")
            uow = UnitOfWork(SQLiteWriteSession(conn), self.currency)
            try:
                yield uow
                await self._without_waiting_if_possible(conn, "COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self.committed(uow)
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and self._checkpointing is None:
            self._checkpointing = asyncio.create_task(self._checkpoint())

    async def _without_waiting_if_possible(self, conn: sqlite3.Connection, sql: str) -> None:
        """Run ``sql`` on the loop if SQLite's lock is free (the writer's busy timeout is 0);
        if another process holds it, wait for it in the writer's thread instead."""
        try:
            conn.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                _raise(exc)
        try:
            await self._in_writer_thread(self._patiently, conn, sql)
        except sqlite3.Error as exc:
            _raise(exc)

    def _patiently(self, conn: sqlite3.Connection, sql: str) -> None:
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        try:
            conn.execute(sql)
        finally:
            conn.execute("PRAGMA busy_timeout=0")

    async def _checkpoint(self) -> None:
        """Copy the WAL into the database file, in the writer's thread on a connection of its
        own: the disk's fsync never holds up the loop or the writer."""
        try:
            await self._in_writer_thread(self._checkpoint_in_thread)
        except (sqlite3.Error, RuntimeError) as exc:
            log.warning("event=sqlite_checkpoint_failed error=%s", exc)
        finally:
            self._checkpointing = None

    def _checkpoint_in_thread(self) -> None:
        with closing(sqlite3.connect(self.path, isolation_level=None)) as conn:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        if self._reader is None or self._loop_reader is None:
            raise RuntimeError("the database is not connected")
        yield UnitOfWork(SQLiteSession(self._loop_reader, self._reader), self.currency)

    async def current_version(self) -> int:
        async with self._write_lock:
            return await self._in_writer_thread(self._current_version, self._writer_connection())

    @staticmethod
    def _current_version(conn: sqlite3.Connection) -> int:
        conn.execute(_SCHEMA_VERSION)
        return int(
            conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        )

    async def _apply(self, pending: list[Migration]) -> list[int]:
        async with self._write_lock:
            writer = self._writer_connection()
            return await self._in_writer_thread(self._apply_in_thread, writer, pending)

    def _apply_in_thread(self, conn: sqlite3.Connection, pending: list[Migration]) -> list[int]:
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        try:
            return self._apply_waiting(conn, pending)
        finally:
            conn.execute("PRAGMA busy_timeout=0")

    def _apply_waiting(self, conn: sqlite3.Connection, pending: list[Migration]) -> list[int]:
        applied: list[int] = []
        current = self._current_version(conn)
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
                conn.executescript(script)
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                _raise(exc)
            applied.append(migration.version)
        return applied


_SCHEMA_VERSION = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
