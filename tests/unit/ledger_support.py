"""A ledger on a temporary SQLite file, for the unit and property tests."""

from __future__ import annotations

from pathlib import Path

from bot.clock import FrozenClock
from bot.services.ledger import LedgerService
from bot.services.users import UserService
from bot.storage.database import Database
from bot.storage.repositories.ledger import LedgerRepository
from bot.storage.repositories.users import UserRepository


class LedgerWorld:
    def __init__(self, path: Path) -> None:
        self.clock = FrozenClock()
        self.db = Database(path)
        self.ledger = LedgerService(self.db, LedgerRepository(self.db), "USD", self.clock)
        self.users = UserService(self.db, UserRepository(self.db), self.ledger, self.clock)

    async def open(self, *user_ids: int) -> LedgerWorld:
        await self.db.connect()
        await self.db.migrate()
        await self.ledger.ensure_system_accounts()
        for user_id in user_ids:
            await self.users.touch(user_id, f"user{user_id}", "en")
        return self

    async def close(self) -> None:
        await self.db.close()
