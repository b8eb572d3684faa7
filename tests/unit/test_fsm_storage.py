"""Conversation state on both backends: it survives reopening the database, empty rows go."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from bot.storage.database import Database, open_database
from bot.storage.fsm import DatabaseStorage


class Setup(StatesGroup):
    password = State()
    repeat = State()


KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)
OTHER = StorageKey(bot_id=1, chat_id=43, user_id=43)


async def open_storage(url: str) -> tuple[Database, DatabaseStorage]:
    db = open_database(url)
    await db.connect()
    await db.migrate()
    return db, DatabaseStorage(db)


async def test_state_and_data_survive_a_reopen(database_url: str) -> None:
    db, storage = await open_storage(database_url)
    await storage.set_state(KEY, Setup.repeat)
    await storage.update_data(KEY, {"step": 2, "name": "Анна"})
    await storage.set_state(OTHER, "other:state")
    await db.close()

    db, storage = await open_storage(database_url)
    try:
        assert await storage.get_state(KEY) == "Setup:repeat"
        assert await storage.get_data(KEY) == {"step": 2, "name": "Анна"}
        assert await storage.get_value(KEY, "step") == 2
        assert await storage.get_state(OTHER) == "other:state"
        assert await storage.get_data(OTHER) == {}
    finally:
        await db.close()


async def test_clearing_removes_the_row(database_url: str) -> None:
    db, storage = await open_storage(database_url)
    try:
        await storage.set_state(KEY, Setup.password)
        await storage.set_data(KEY, {"x": 1})
        await storage.set_state(KEY, None)
        assert await storage.get_data(KEY) == {"x": 1}
        await storage.set_data(KEY, {})
        assert await storage.get_state(KEY) is None
        async with db.read() as uow:
            assert await uow.fsm.keys() == []
    finally:
        await db.close()


async def test_users_stored_a_moment_ago_start_with_no_conversation_read(
    database_url: str,
) -> None:
    """The inbox stores a batch's new users and tells the storage: their private chat's first
    update reads no state from the database. Proven by a row planted behind the storage's back
    (another process's write would notify, and the copy would be forgotten), which a read from
    the database would find."""
    db, storage = await open_storage(database_url)
    try:
        storage.start_empty(1, [42])
        async with db.unit_of_work() as uow:  # planted without a notification
            for key in (KEY, OTHER):
                await uow.session.execute(
                    "INSERT INTO fsm_state (key, state, updated_at) VALUES ($1, 'planted', $2)",
                    storage.keys.build(key),
                    storage.now(),
                )
        assert await storage.get_state(KEY) is None  # not read: known empty
        assert await storage.get_state(OTHER) == "planted"  # not primed: read as usual
        await storage.set_state(KEY, Setup.password)  # written through as usual
        assert await storage.get_state(KEY) == "Setup:password"
        assert await DatabaseStorage(db).get_state(KEY) == "Setup:password"
    finally:
        await db.close()
