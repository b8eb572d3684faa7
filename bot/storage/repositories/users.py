"""Users: Telegram id, chosen language, reachability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.domain.models import UserRecord
from bot.storage.caches import USERS_CHANNEL
from bot.storage.session import Row, Session, notify_others

_COLUMNS = "id, first_name, client_language, language, reachable, created_at, version"


def _user(row: Row) -> UserRecord:
    return UserRecord(
        id=row["id"],
        first_name=row["first_name"],
        client_language=row["client_language"],
        language=row["language"],
        reachable=bool(row["reachable"]),
        created_at=row["created_at"],
        version=row["version"],
    )


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self.session.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)
        return _user(row) if row else None

    async def get_many(self, user_ids: Sequence[int]) -> dict[int, UserRecord]:
        if not user_ids:
            return {}
        marks = ", ".join(f"${n}" for n in range(1, len(user_ids) + 1))
        rows = await self.session.fetch(
            f"SELECT {_COLUMNS} FROM users WHERE id IN ({marks})", *user_ids
        )
        return {row["id"]: _user(row) for row in rows}

    async def add_many(self, users: Iterable[tuple[int, str, str | None]], now: datetime) -> None:
        """New users (id, first_name, client_language); one already there is left as it is."""
        await self.session.executemany(
            "INSERT INTO users (id, first_name, client_language, reachable, created_at, updated_at)"
            " VALUES ($1, $2, $3, TRUE, $4, $4) ON CONFLICT (id) DO NOTHING",
            [(user_id, name, language, now) for user_id, name, language in users],
        )

    async def upsert(
        self, user_id: int, first_name: str, client_language: str | None, now: datetime
    ) -> UserRecord:
        """Create the user or refresh what the client reports; any contact makes them reachable."""
        row = await self.session.fetchrow(
            f"""
            INSERT INTO users (id, first_name, client_language, reachable, created_at, updated_at)
            VALUES ($1, $2, $3, TRUE, $4, $4)
            ON CONFLICT (id) DO UPDATE SET
                first_name = excluded.first_name,
                client_language = excluded.client_language,
                reachable = TRUE,
                updated_at = excluded.updated_at,
                version = users.version + 1
            RETURNING {_COLUMNS}
            """,
            user_id,
            first_name,
            client_language,
            now,
        )
        assert row is not None
        return await self._changed(_user(row))

    async def set_language(self, user_id: int, language: str, now: datetime) -> UserRecord | None:
        row = await self.session.fetchrow(
            "UPDATE users SET language = $1, updated_at = $2, version = version + 1"
            f" WHERE id = $3 RETURNING {_COLUMNS}",
            language,
            now,
            user_id,
        )
        return await self._changed(_user(row)) if row else None

    async def set_reachable(
        self, user_id: int, reachable: bool, now: datetime
    ) -> UserRecord | None:
        row = await self.session.fetchrow(
            "UPDATE users SET reachable = $1, updated_at = $2, version = version + 1"
            f" WHERE id = $3 RETURNING {_COLUMNS}",
            reachable,
            now,
            user_id,
        )
        return await self._changed(_user(row)) if row else None

    async def _changed(self, user: UserRecord) -> UserRecord:
        await notify_others(self.session, USERS_CHANNEL, f"{user.id}:{user.version}")
        return user

    async def count(self) -> int:
        return int(await self.session.fetchval("SELECT COUNT(*) FROM users"))
