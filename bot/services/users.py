"""Users: registration on first contact, language choice, reachability."""

from __future__ import annotations

from bot.clock import Clock
from bot.services.ledger import LedgerService
from bot.storage.database import Database
from bot.storage.repositories.users import UserRecord, UserRepository


class UserService:
    def __init__(
        self, db: Database, users: UserRepository, ledger: LedgerService, clock: Clock
    ) -> None:
        self.db = db
        self.users = users
        self.ledger = ledger
        self.clock = clock

    async def get(self, user_id: int) -> UserRecord | None:
        return await self.users.get(user_id)

    async def touch(self, user_id: int, first_name: str, client_language: str | None) -> UserRecord:
        """Register the user on first contact, refresh what the client reports, nothing else.

        The common case (a known user, nothing changed) is one read and no write.
        """
        known = await self.users.get(user_id)
        if (
            known is not None
            and known.first_name == first_name
            and known.client_language == client_language
            and known.reachable
        ):
            return known
        async with self.db.transaction() as conn:
            user = await self.users.upsert(
                conn, user_id, first_name, client_language, self.clock.now()
            )
            if known is None:
                await self.ledger.ensure_accounts_in(conn, user_id)
        return user

    async def set_language(self, user_id: int, language: str) -> None:
        async with self.db.transaction() as conn:
            await self.users.set_language(conn, user_id, language, self.clock.now())

    async def mark_unreachable(self, user_id: int) -> None:
        async with self.db.transaction() as conn:
            await self.users.set_reachable(conn, user_id, False, self.clock.now())
