"""aiogram FSM storage on the bot's database: conversations survive a restart."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.storage.database import Database


class DatabaseStorage(BaseStorage):
    """One row per conversation key, on SQLite or PostgreSQL; an empty row is deleted."""

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
        async with self.db.read() as uow:
            return await uow.fsm.state(self.keys.build(key))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, "data", json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.read() as uow:
            raw = await uow.fsm.data(self.keys.build(key))
        loaded: dict[str, Any] = json.loads(raw) if raw else {}
        return loaded

    async def close(self) -> None:
        """The Database is closed by its owner, the application."""

    async def _write(self, key: StorageKey, column: str, value: str | None) -> None:
        built = self.keys.build(key)
        if value is None or value == "{}":
            # /start and /cancel clear on every call; most of the time there is nothing.
            async with self.db.read() as uow:
                if not await uow.fsm.exists(built):
                    return
        async with self.db.unit_of_work() as uow:
            await uow.fsm.write(built, column, value, self.now())
