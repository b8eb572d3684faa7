"""Test databases on both backends: a SQLite file per test, a PostgreSQL schema per test.

PostgreSQL runs when TEST_DATABASE_URL names a server (CI always sets it); each test gets its
own schema on it, found through ``search_path`` in the URL, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
ENABLE_HINT = "set TEST_DATABASE_URL=postgresql://127.0.0.1:5432/test to run them"
# Redis for replicas' shared limits; CI always sets it, next to TEST_DATABASE_URL.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
REDIS_HINT = "set TEST_REDIS_URL=redis://127.0.0.1:6379/0 to run them"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(
            not TEST_DATABASE_URL, reason=f"PostgreSQL tests skipped: {ENABLE_HINT}"
        ),
    ),
]


def with_search_path(url: str, schema: str) -> str:
    """asyncpg passes unknown URL parameters to the server as settings."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    query.append(("search_path", schema))
    return urlunsplit(parts._replace(query=urlencode(query)))


async def create_schema() -> tuple[str, str]:
    """A fresh, empty schema on the test server: (its name, a URL that uses it)."""
    import asyncpg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return schema, with_search_path(TEST_DATABASE_URL, schema)


async def drop_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


class ScratchDatabase:
    """One empty database for one test, on the backend asked for."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.schema: str | None = None
        self.url = ""

    async def create(self) -> str:
        if self.backend == "sqlite":
            self.url = f"sqlite:///{self.folder / 'giftwallet.sqlite3'}"
        else:
            self.schema, self.url = await create_schema()
        return self.url

    async def dump(self) -> str:
        """Every row of every table, as text (for the secrets scan)."""
        from tests.secrets_scan import dump_postgresql, dump_sqlite

        if self.schema is not None:
            return await dump_postgresql(TEST_DATABASE_URL, self.schema)
        return dump_sqlite(self.folder / "giftwallet.sqlite3")

    async def drop(self) -> None:
        if self.schema is not None:
            await drop_schema(self.schema)
