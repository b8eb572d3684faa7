"""PostgreSQL through asyncpg, with a connection pool: for shops that outgrow one SQLite file.

Many processes may write at once. Balances change by conditional updates in one fixed account
order (see the ledger service), idempotency keys are unique indexes, and a deadlock or
serialization failure surfaces as TransientConflict for ``retry_on_conflict`` to run again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from typing import Any, ClassVar, NoReturn

import asyncpg

from bot.storage.caches import FSM_CHANNEL, USERS_CHANNEL
from bot.storage.database import Database, redact
from bot.storage.errors import (
    IntegrityViolation,
    StorageError,
    StorageUnavailable,
    TransientConflict,
)
from bot.storage.migrations import Migration
from bot.storage.session import Row
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# Any number will do, as long as it is always the same: it serializes concurrent migrators.
_MIGRATION_LOCK = 0x67696674


def _raise(exc: Exception) -> NoReturn:
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        raise IntegrityViolation(str(exc)) from exc
    if isinstance(exc, asyncpg.SerializationError | asyncpg.DeadlockDetectedError):
        raise TransientConflict(str(exc)) from exc
    if isinstance(exc, asyncpg.PostgresConnectionError | OSError):
        raise StorageUnavailable(str(exc)) from exc
    raise StorageError(str(exc)) from exc


class PostgresSession:
    dialect = "postgresql"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            return list(await self._conn.fetch(sql, *args))
        except (asyncpg.PostgresError, OSError) as exc:
            _raise(exc)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        try:
            row: Row | None = await self._conn.fetchrow(sql, *args)
        except (asyncpg.PostgresError, OSError) as exc:
            _raise(exc)
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        try:
            return await self._conn.fetchval(sql, *args)
        except (asyncpg.PostgresError, OSError) as exc:
            _raise(exc)

    async def execute(self, sql: str, *args: Any) -> None:
        try:
            await self._conn.execute(sql, *args)
        except (asyncpg.PostgresError, OSError) as exc:
            _raise(exc)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, list(rows))
        except (asyncpg.PostgresError, OSError) as exc:
            _raise(exc)


class PostgresDatabase(Database):
    dialect: ClassVar[str] = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None

    async def connect(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                command_timeout=60,
                reset=_keep_session,
            )
        except (asyncpg.PostgresError, OSError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__
            raise StorageUnavailable(f"cannot connect to {redact(self.url)}: {reason}") from None
        await self._listen()

    async def _listen(self) -> None:
        """Hear other processes' writes of cached rows (see caches.py) on a connection of its
        own; without it, nothing is cached."""
        try:
            self._listener = await asyncpg.connect(self.url)
            schema = await self._listener.fetchval("SELECT current_schema()")
            for prefix in (USERS_CHANNEL, FSM_CHANNEL):
                await self._listener.add_listener(prefix + schema, self._heard)
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("event=cache_listener_failed error=%s", type(exc).__name__)
            self.caches.distrust()
            return
        self._listener.add_termination_listener(self._lost)

    def _lost(self, _conn: object) -> None:
        if self._listener is not None:  # not our own close()
            self.caches.distrust()

    def _heard(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        self.caches.changed_elsewhere(channel, payload)

    async def close(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with suppress(asyncpg.PostgresError, OSError):
                await listener.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def connected(self) -> bool:
        return self._pool is not None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database is not connected")
        return self._pool

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            conn = await self.pool.acquire()
        except (asyncpg.PostgresError, OSError) as exc:
            _raise(exc)
        try:
            yield conn
        finally:
            await self.pool.release(conn)

    @asynccontextmanager
    async def _own_connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            conn = await asyncpg.connect(self.url)
        except (asyncpg.PostgresError, OSError) as exc:
            _raise(exc)
        try:
            yield conn
        finally:
            await conn.close()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self._connection() as conn:
            transaction = conn.transaction()
            try:
                await transaction.start()
            except (asyncpg.PostgresError, OSError) as exc:
                _raise(exc)
            uow = UnitOfWork(PostgresSession(conn), self.currency)
            try:
                yield uow
            except BaseException:
                await transaction.rollback()
                raise
            try:
                await transaction.commit()
            except (asyncpg.PostgresError, OSError) as exc:
                _raise(exc)
        self.committed(uow)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[UnitOfWork]:
        async with self._connection() as conn:
            yield UnitOfWork(PostgresSession(conn), self.currency)

    async def current_version(self) -> int:
        async with self._connection() as conn:
            await conn.execute(_SCHEMA_VERSION)
            return int(await conn.fetchval(_CURRENT_VERSION))

    async def _apply(self, pending: list[Migration]) -> list[int]:
        applied: list[int] = []
        # A connection of its own, closed after: the session settings and the advisory lock
        # never reach the pool, whose connections are not reset (see _keep_session).
        async with self._own_connection() as conn:
            # One migrator at a time per schema (another schema is another deployment); the
            # others then find nothing to do. A live migrator may take a while: wait for it.
            await conn.execute(_ADVISORY_LOCK, _MIGRATION_LOCK)
            # A start never waits long for a table another session holds: it names the lock.
            await conn.execute(f"SET lock_timeout = '{MIGRATION_LOCK_TIMEOUT}s'")
            try:
                await conn.execute(_SCHEMA_VERSION)
                current = await conn.fetchval(_CURRENT_VERSION)
                for migration in pending:
                    if migration.version <= current:
                        continue
                    try:
                        async with conn.transaction():
                            await conn.execute(migration.sql)
                            await conn.execute(
                                "INSERT INTO schema_version (version, name, applied_at)"
                                " VALUES ($1, $2, $3)",
                                migration.version,
                                migration.name,
                                datetime.now(UTC).isoformat(),
                            )
                    except (asyncpg.PostgresError, OSError) as exc:
                        _raise(exc)
                    applied.append(migration.version)
            except asyncpg.LockNotAvailableError:
                raise StorageUnavailable(
                    f"a table stayed locked for {MIGRATION_LOCK_TIMEOUT} s:"
                    f" {await _lock_holders(conn)}"
                ) from None
            finally:
                await conn.execute("RESET lock_timeout")
                await conn.execute(_ADVISORY_UNLOCK, _MIGRATION_LOCK)
        return applied


async def _keep_session(conn: asyncpg.Connection) -> None:
    """What a pooled connection needs before its next use, beyond asyncpg's own rollback of an
    open transaction: nothing. asyncpg's default sends RESET ALL, UNLISTEN *, CLOSE ALL and
    pg_advisory_unlock_all() on every release, a round trip that took 11% of the bot's CPU on
    PostgreSQL, for session state this code never leaves on a pooled connection (no SET, no
    cursor, no session lock: the migrator has a connection of its own, and so has listening)."""


MIGRATION_LOCK_TIMEOUT = 10  # seconds
_ADVISORY_LOCK = "SELECT pg_advisory_lock($1::int4, hashtext(current_schema()))"
_ADVISORY_UNLOCK = "SELECT pg_advisory_unlock($1::int4, hashtext(current_schema()))"


async def _lock_holders(conn: asyncpg.Connection) -> str:
    """Who holds locks in this database that a start may wait for: the table or the advisory
    lock, the mode, the session's pid and what it is doing, so an operator can end it."""
    rows = await conn.fetch(
        "SELECT COALESCE(c.relname, l.locktype) AS what, l.mode, a.pid, a.state,"
        " a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " LEFT JOIN pg_class c ON c.oid = l.relation"
        " WHERE l.granted AND l.pid <> pg_backend_pid() AND a.datname = current_database()"
        " AND l.locktype = 'relation' AND c.relnamespace = current_schema()::regnamespace"
        " AND l.mode IN"
        " ('AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock')"
        " ORDER BY a.pid LIMIT 5"
    )
    if not rows:
        return "held by another session (it has let go since)"
    held = []
    for row in rows:
        doing = row["state"] or "unknown state"
        if row["application_name"]:
            doing += f", {row['application_name']}"
        held.append(f"{row['what']} ({row['mode']}) held by pid {row['pid']} ({doing})")
    return "; ".join(held) + ": end that session (SELECT pg_terminate_backend(pid)) or wait"


_SCHEMA_VERSION = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
_CURRENT_VERSION = "SELECT COALESCE(MAX(version), 0) FROM schema_version"
