"""Two processes on one PostgreSQL database, each with its own caches: a user's language changed
in one while the other touches them, and a conversation state moved in one, are seen by the
other once the write commits (the write notifies; each process listens)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.domain.clock import Clock, ShiftedClock
from bot.services.ledger import LedgerService
from bot.services.users import UserService
from bot.storage.database import Database, open_database
from bot.storage.fsm import DatabaseStorage
from tests.databases import ENABLE_HINT, TEST_DATABASE_URL, create_schema, drop_schema

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason=ENABLE_HINT)

USERS = range(5000, 5200)


class Process:
    """What one bot process holds: its pool, its caches, its services."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.users = UserService(db, LedgerService(db, "USD", clock), clock)
        self.storage = DatabaseStorage(db)


@pytest.fixture
async def two() -> AsyncIterator[tuple[Process, Process]]:
    schema, url = await create_schema()
    clock = ShiftedClock()
    first, second = open_database(url), open_database(url)
    try:
        await first.connect()
        await first.migrate()
        await second.connect()
        yield Process(first, clock), Process(second, clock)
    finally:
        await first.close()
        await second.close()
        await drop_schema(schema)


async def eventually(check: Callable[[], Awaitable[bool]], limit: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "never became true"
        await asyncio.sleep(0.02)


async def test_a_language_changed_in_one_process_is_seen_by_the_other(
    two: tuple[Process, Process],
) -> None:
    a, b = two
    for user in USERS:
        await a.users.touch(user, f"User {user}", "en")
        await b.users.touch(user, f"User {user}", "en")  # both keep a copy

    async def change() -> None:
        for user in USERS:
            await a.users.set_language(user, "ru")

    async def touch() -> None:
        for _ in range(3):
            for user in USERS:
                await b.users.touch(user, f"User {user}", "en")

    await asyncio.gather(change(), touch())

    async def all_russian() -> bool:
        found = [await b.users.get(user) for user in USERS]
        return all(user is not None and user.language == "ru" for user in found)

    await eventually(all_russian)
    touched = await b.users.touch(USERS[0], "User 5000", "en")
    assert touched.language == "ru"


async def test_a_conversation_moved_in_one_process_is_seen_by_the_other(
    two: tuple[Process, Process],
) -> None:
    a, b = two
    key = StorageKey(bot_id=1, chat_id=USERS[0], user_id=USERS[0])
    assert await b.storage.get_state(key) is None  # b keeps "no state"
    await a.storage.set_state(key, "Setup:password")
    await a.storage.set_data(key, {"step": 2})

    async def moved() -> bool:
        return await b.storage.get_state(key) == "Setup:password"

    await eventually(moved)
    assert await b.storage.get_data(key) == {"step": 2}
    await a.storage.set_state(key, None)
    await a.storage.set_data(key, {})

    async def cleared() -> bool:
        return await b.storage.get_state(key) is None

    await eventually(cleared)
