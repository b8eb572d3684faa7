"""A ledger on a test database (SQLite or PostgreSQL), for the unit and property tests."""

from __future__ import annotations

from typing import Any

from bot.domain.clock import FrozenClock
from bot.services.ledger import LedgerService
from bot.services.users import UserService
from bot.storage.database import Database, open_database
from bot.storage.session import Row


class LedgerWorld:
    def __init__(self, url: str) -> None:
        self.clock = FrozenClock()
        self.db: Database = open_database(url)
        self.ledger = LedgerService(self.db, "USD", self.clock)
        self.users = UserService(self.db, self.ledger, self.clock)

    async def open(self, *user_ids: int) -> LedgerWorld:
        await self.db.connect()
        await self.db.migrate()
        await self.ledger.ensure_system_accounts()
        for user_id in user_ids:
            await self.users.touch(user_id, f"user{user_id}", "en")
        return self

    async def close(self) -> None:
        await self.db.close()

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Raw SQL for checks that no repository offers (tests only)."""
        async with self.db.read() as uow:
            return await uow.session.fetch(sql, *args)

    async def execute(self, sql: str, *args: Any) -> None:
        async with self.db.unit_of_work() as uow:
            await uow.session.execute(sql, *args)

    async def post(self, key: str, kind: str, legs: Any, *, user_id: int | None = None) -> Any:
        """One entry in its own unit of work, as a top-level operation would post it."""
        async with self.db.unit_of_work() as uow:
            return await self.ledger.post_entry(uow, key, kind, legs, user_id=user_id)

    async def transfer(
        self, key: str, kind: str, source: Any, target: Any, amount: Any, **kw: Any
    ) -> Any:
        async with self.db.unit_of_work() as uow:
            return await self.ledger.transfer(uow, key, kind, source, target, amount, **kw)
