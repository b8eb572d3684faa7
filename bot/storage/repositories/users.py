"""Users: Telegram id, chosen language, reachability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.database import Database, Row


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    first_name: str
    client_language: str | None
    language: str | None
    reachable: bool
    created_at: datetime


def _user(row: Row) -> UserRecord:
    return UserRecord(
        id=row["id"],
        first_name=row["first_name"],
        client_language=row["client_language"],
        language=row["language"],
        reachable=bool(row["reachable"]),
        created_at=datetime.fromisoformat(row["created_at"]),
    )


_COLUMNS = "id, first_name, client_language, language, reachable, created_at"


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return _user(row) if row else None

    async def upsert(
        self,
        conn: aiosqlite.Connection,
        user_id: int,
        first_name: str,
        client_language: str | None,
        now: datetime,
    ) -> UserRecord:
        """Create the user or refresh what the client reports; any contact makes them reachable."""
        stamp = now.isoformat()
        async with conn.execute(
            f"""
            INSERT INTO users (id, first_name, client_language, reachable, created_at, updated_at)
            VALUES (?, ?, ?, 1, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                first_name = excluded.first_name,
                client_language = excluded.client_language,
                reachable = 1,
                updated_at = excluded.updated_at
            RETURNING {_COLUMNS}
            """,
            (user_id, first_name, client_language, stamp, stamp),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return _user(row)

    async def set_language(
        self, conn: aiosqlite.Connection, user_id: int, language: str, now: datetime
    ) -> None:
        await conn.execute(
            "UPDATE users SET language = ?, updated_at = ? WHERE id = ?",
            (language, now.isoformat(), user_id),
        )

    async def set_reachable(
        self, conn: aiosqlite.Connection, user_id: int, reachable: bool, now: datetime
    ) -> None:
        await conn.execute(
            "UPDATE users SET reachable = ?, updated_at = ? WHERE id = ?",
            (int(reachable), now.isoformat(), user_id),
        )
