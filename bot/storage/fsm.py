"""aiogram FSM storage on the bot's database: conversations survive a restart."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.storage.database import Database

EMPTY: tuple[str | None, str] = (None, "{}")


class DatabaseStorage(BaseStorage):
    """One row per conversation key, on SQLite or PostgreSQL; an empty row is deleted.

    Rows are also kept in the process (``db.caches``), written through: every update reads its
    state, and most clear it, so without the copy each update cost two or three database round
    trips. Another process's write evicts the copy (see caches.py); a failed write forgets the
    key, and the next read goes to the database.
    """

    def __init__(
        self, db: Database, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.db = db
        self.now = now
        self.keys = DefaultKeyBuilder(
            with_bot_id=True, with_business_connection_id=True, with_destiny=True
        )
        self._rows = db.caches.conversations  # kept in storage, correct across processes

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(key, "state", value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._row(self.keys.build(key), key.chat_id))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, "data", json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((await self._row(self.keys.build(key), key.chat_id))[1])
        return loaded

    def start_empty(self, bot_id: int, user_ids: Iterable[int]) -> None:
        """Users stored a moment ago have no conversation in their private chat yet: a state is
        written only while an update of theirs runs, after the user is stored. Their first
        update then reads none from the database."""
        for user_id in user_ids:
            key = self.keys.build(StorageKey(bot_id=bot_id, chat_id=user_id, user_id=user_id))
            self._rows.remember(key, EMPTY, group=user_id)

    async def close(self) -> None:
        """The Database is closed by its owner, the application."""

    async def _row(self, built: str, chat: int) -> tuple[str | None, str]:
        row = self._rows.get(built)
        if row is not None:
            return row
        async with self.db.read() as uow:
            stored = await uow.fsm.row(built)
        row = EMPTY if stored is None else (stored[0], stored[1] or "{}")
        self._rows.remember(built, row, group=chat)
        return row

    async def _write(self, key: StorageKey, column: str, value: str | None) -> None:
        built = self.keys.build(key)
        current = await self._row(built, key.chat_id)
        changed = (value, current[1]) if column == "state" else (current[0], value or "{}")
        if changed == current:
            return  # /start and /cancel clear on every call; most of the time nothing changes
        self._rows.forget(built)  # unknown until the write is committed
        async with self.db.unit_of_work() as uow:
            await uow.fsm.write(built, column, value, self.now())
        self._rows.remember(built, changed, group=key.chat_id)
