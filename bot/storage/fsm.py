"""aiogram FSM storage on the bot's SQLite database: conversations survive a restart."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.storage.database import Database


class SQLiteStorage(BaseStorage):
    """One row per conversation key; a row with no state and no data is deleted."""

    def __init__(
        self, db: Database, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.db = db
        self.now = now
        self.keys = DefaultKeyBuilder(
            with_bot_id=True, with_business_connection_id=True, with_destiny=True
        )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, "state", value)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self.db.fetchone(
            "SELECT state FROM fsm_state WHERE key = ?", (self.keys.build(key),)
        )
        return row["state"] if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, "data", json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self.db.fetchone(
            "SELECT data FROM fsm_state WHERE key = ?", (self.keys.build(key),)
        )
        loaded: dict[str, Any] = json.loads(row["data"]) if row else {}
        return loaded

    async def close(self) -> None:
        """The Database is closed by its owner, the application."""

    async def _write(self, key: StorageKey, column: str, value: str | None) -> None:
        """Set one column (``state`` or ``data``) and drop the row once it holds nothing."""
        assert column in ("state", "data")
        built = self.keys.build(key)
        clearing = value is None or value == "{}"
        if (
            clearing
            and await self.db.fetchone("SELECT 1 FROM fsm_state WHERE key = ?", (built,)) is None
        ):
            return  # /start and /cancel clear on every call; most of the time there is nothing
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO fsm_state (key, {column}, updated_at) VALUES (?, ?, ?)"
                f" ON CONFLICT (key) DO UPDATE SET {column} = excluded.{column},"
                " updated_at = excluded.updated_at",
                (built, value, self.now().isoformat()),
            )
            await conn.execute(
                "DELETE FROM fsm_state WHERE key = ? AND state IS NULL AND data = '{}'", (built,)
            )
