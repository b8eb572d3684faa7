"""Conversation state rows (aiogram FSM): one per storage key."""

from __future__ import annotations

from datetime import datetime

from bot.storage.caches import FSM_CHANNEL
from bot.storage.session import Session, notify_others

_UPSERT = {
    column: (
        f"INSERT INTO fsm_state (key, {column}, updated_at) VALUES ($1, $2, $3)"
        f" ON CONFLICT (key) DO UPDATE SET {column} = excluded.{column},"
        " updated_at = excluded.updated_at"
    )
    for column in ("state", "data")
}


class FSMRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def row(self, key: str) -> tuple[str | None, str] | None:
        """(state, data JSON) of the key, or None when it has no row."""
        found = await self.session.fetchrow("SELECT state, data FROM fsm_state WHERE key = $1", key)
        return None if found is None else (found["state"], found["data"])

    async def write(self, key: str, column: str, value: str | None, now: datetime) -> None:
        """Set ``state`` or ``data``, then drop the row if it holds nothing any more."""
        await self.session.execute(_UPSERT[column], key, value, now)
        await self.session.execute(
            "DELETE FROM fsm_state WHERE key = $1 AND state IS NULL AND data = '{}'", key
        )
        await notify_others(self.session, FSM_CHANNEL, key)

    async def keys(self) -> list[str]:
        return [row[0] for row in await self.session.fetch("SELECT key FROM fsm_state")]
