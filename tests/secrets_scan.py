"""The secrets the tests type, and a scan for them in logs and in a dump of a test's database.

Passwords, security answers and full card numbers are stored only as salted hashes or masked,
and the bot token never reaches a log line, so none of these strings may turn up anywhere.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SECRETS = (
    "123456:TEST-token-for-the-fake-bot-api-server",
    "TEST-token-for-the-fake-bot-api-server",
    # Payment passwords typed in the tests.
    "Gift-Wallet-42",
    "Brand-New-77",
    "secret-pass-42",
    "not-my-password",
    "Something-Else-9",
    # Security answers (compared case-insensitively below).
    "барсик",
    "мурзик",
    "школа 57",
    # Full card numbers, with and without spaces.
    "2200700000000009",
    "2200 7000 0000 0009",
    "4111111111111112",
    "4111 1111 1111 1112",
)


def leaks(text: str) -> list[str]:
    folded = text.casefold()
    return [secret for secret in SECRETS if secret.casefold() in folded]


def leaking_rows(dump: str) -> list[str]:
    """The dumped rows (``table: values``) that hold a secret."""
    return [line[:300] for line in dump.splitlines() if leaks(line)]


def dump_sqlite(path: Path) -> str:
    if not path.exists():
        return ""
    conn = sqlite3.connect(path)
    try:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return "\n".join(
            f"{table}: {row!r}"
            for table in tables
            for row in conn.execute(f'SELECT * FROM "{table}"')
        )
    finally:
        conn.close()


async def dump_postgresql(url: str, schema: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
        rows = []
        for table in tables:
            records = await conn.fetch(f'SELECT * FROM "{schema}"."{table["table_name"]}"')
            rows.extend(f"{table['table_name']}: {tuple(record.values())!r}" for record in records)
        return "\n".join(rows)
    finally:
        await conn.close()
