"""What a repository talks to: one connection, inside or outside a transaction.

SQL is written once, with PostgreSQL's numbered parameters (``$1``, ``$2``; one may be used
twice). The SQLite session rewrites them to SQLite's own numbered form (``?1``) and stores
datetimes as ISO 8601 text; everything else is the same text on both backends.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, Protocol


class Row(Protocol):
    """A result row: ``sqlite3.Row`` and ``asyncpg.Record`` both read by name and by position."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Session(Protocol):
    dialect: str

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...

    async def execute(self, sql: str, *args: Any) -> None: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


async def notify_others(session: Session, channel: str, payload: str) -> None:
    """Tell the other processes on this PostgreSQL database that a cached row changed; sent
    when the transaction commits, never if it rolls back. SQLite serves one process."""
    if session.dialect == "postgresql":
        await session.fetchval("SELECT pg_notify($1 || current_schema(), $2)", channel, payload)


def listed_texts(session: Session, values: Collection[str]) -> tuple[str, object]:
    """Texts as one parameter ($1) that SQL reads as rows of ``lane``: ``(source, argument)``.
    An array on PostgreSQL; a JSON list on SQLite, which has no arrays."""
    if session.dialect == "postgresql":
        return "SELECT unnest($1::text[]) AS lane", list(values)
    return "SELECT value AS lane FROM json_each($1)", json.dumps(list(values))
