"""The database a deployment runs on, picked by ``DATABASE_URL``.

``sqlite:///<path>`` (the default, one file beside the bot) or ``postgresql://user@host/db``.
Everything above storage sees only :class:`Database` and the :class:`UnitOfWork` it hands out.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from functools import cached_property
from pathlib import Path
from typing import ClassVar, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

from bot.storage.caches import Caches
from bot.storage.errors import TransientConflict
from bot.storage.migrations import Migration, load_migrations
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class Database(ABC):
    dialect: ClassVar[str]
    # Called after a unit of work that queued notices commits: the sender looks at once
    # instead of at its next poll.
    on_notices: Callable[[], None] | None = None
    # The ledger's currency: repositories read amounts into Money of it.
    currency: str = "USD"

    @cached_property
    def caches(self) -> Caches:
        """Rows kept in this process (users, conversation states); see caches.py."""
        return Caches()

    def hold_sole_use(self) -> None:
        """Make sure no other bot process runs on this database; a no-op where several may."""
        return None

    def lanes_changed_hands(self, lanes: Iterable[str]) -> None:
        """This process now handles these lanes; another may have handled them last and
        changed their users and conversations: the next read of those goes to the database.
        (SQLite has one process, so what it keeps stays right.)"""
        if self.dialect == "postgresql":
            self.caches.forget_chats(lanes)

    def committed(self, uow: UnitOfWork) -> None:
        """What follows a commit (each backend calls it)."""
        if uow.queued_notices and self.on_notices is not None:
            self.on_notices()

    @abstractmethod
    async def connect(self) -> None:
        """Open connections (or the pool); raises StorageUnavailable with a readable reason."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """One transaction: commits when the block ends, rolls back on any exception."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """The same repositories for reads outside a transaction (committed data only)."""

    @abstractmethod
    async def current_version(self) -> int: ...

    @abstractmethod
    async def _apply(self, pending: list[Migration]) -> list[int]:
        """Apply the migrations newer than the current version, each in its own transaction."""

    async def migrate(self, migrations: list[Migration] | None = None) -> list[int]:
        """Bring the schema up to date. Returns the versions applied now."""
        pending = load_migrations(self.dialect) if migrations is None else migrations
        applied = await self._apply(pending)
        for migration in pending:
            if migration.version in applied:
                log.info(
                    "event=migration_applied dialect=%s version=%d name=%s",
                    self.dialect,
                    migration.version,
                    migration.name,
                )
        return applied


def open_database(url: str, *, currency: str = "USD", pool_size: int = 10) -> Database:
    """A database for ``url`` whose amounts are in ``currency``, not yet connected."""
    scheme = urlsplit(url).scheme
    database: Database
    if scheme == "sqlite":
        from bot.storage.sqlite import SQLiteDatabase

        database = SQLiteDatabase(sqlite_path(url))
    elif scheme in ("postgresql", "postgres"):
        from bot.storage.postgres import PostgresDatabase

        database = PostgresDatabase(url, pool_size=pool_size)
    else:
        raise ValueError("must start with sqlite:/// or postgresql://")
    database.currency = currency
    return database


def sqlite_path(url: str) -> Path:
    """``sqlite:///data/x.sqlite3`` is relative to the working directory, ``sqlite:////x`` not."""
    if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
        raise ValueError("a SQLite URL looks like sqlite:///data/giftwallet.sqlite3")
    return Path(url.removeprefix("sqlite:///"))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def retry_on_conflict(
    attempts: int = 3, pause: float = 0.01
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Run an operation that opens its own unit of work again after a deadlock or
    serialization failure (PostgreSQL under concurrent writers), at most ``attempts`` times.

    Only for top-level operations: one that joins a caller's unit of work must let the caller
    retry, because the whole transaction is gone.
    """

    def decorate(operation: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(operation)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            for attempt in range(1, attempts + 1):
                try:
                    return await operation(*args, **kwargs)
                except TransientConflict as exc:
                    if attempt == attempts:
                        raise
                    log.info(
                        "event=transaction_retried operation=%s attempt=%d reason=%s",
                        operation.__qualname__,
                        attempt,
                        exc,
                    )
                    await asyncio.sleep(pause * attempt)
            raise AssertionError("unreachable")

        return run

    return decorate
