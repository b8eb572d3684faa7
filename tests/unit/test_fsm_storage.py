"""Conversation state in SQLite: it survives reopening the database, and empty rows go away."""

from __future__ import annotations

from pathlib import Path

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from bot.storage.database import Database
from bot.storage.fsm import SQLiteStorage


class Setup(StatesGroup):
    password = State()
    repeat = State()


KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)
OTHER = StorageKey(bot_id=1, chat_id=43, user_id=43)


async def open_storage(path: Path) -> tuple[Database, SQLiteStorage]:
    db = Database(path)
    await db.connect()
    await db.migrate()
    return db, SQLiteStorage(db)


async def test_state_and_data_survive_a_reopen(tmp_path: Path) -> None:
    db, storage = await open_storage(tmp_path / "fsm.sqlite3")
    await storage.set_state(KEY, Setup.repeat)
    await storage.update_data(KEY, {"step": 2, "name": "Анна"})
    await storage.set_state(OTHER, "other:state")
    await db.close()

    db, storage = await open_storage(tmp_path / "fsm.sqlite3")
    try:
        assert await storage.get_state(KEY) == "Setup:repeat"
        assert await storage.get_data(KEY) == {"step": 2, "name": "Анна"}
        assert await storage.get_value(KEY, "step") == 2
        assert await storage.get_state(OTHER) == "other:state"
        assert await storage.get_data(OTHER) == {}
    finally:
        await db.close()


async def test_clearing_removes_the_row(tmp_path: Path) -> None:
    db, storage = await open_storage(tmp_path / "fsm.sqlite3")
    try:
        await storage.set_state(KEY, Setup.password)
        await storage.set_data(KEY, {"x": 1})
        await storage.set_state(KEY, None)
        assert await storage.get_data(KEY) == {"x": 1}
        await storage.set_data(KEY, {})
        assert await storage.get_state(KEY) is None
        assert await db.fetchall("SELECT key FROM fsm_state") == []
    finally:
        await db.close()
