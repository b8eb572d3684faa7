"""Users: registration on first contact, language choice, reachability."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from bot.clock import Clock
from bot.lru import LRU
from bot.models import UserRecord
from bot.services.ledger import LedgerService
from bot.storage.database import Database, retry_on_conflict


def _printable(text: str) -> str:
    """Clients can send broken UTF-16 (a lone surrogate) in a name; keep what can be stored."""
    return text.encode("utf-8", "replace").decode("utf-8")[:256]


def _unchanged(user: UserRecord, first_name: str, client_language: str | None) -> bool:
    """Nothing to write: the client reports what is stored, and the user is reachable."""
    return (
        user.first_name == first_name and user.client_language == client_language and user.reachable
    )


class Contact(NamedTuple):
    """A sender as an update names them."""

    user_id: int
    first_name: str
    client_language: str | None


# Users remembered in the process; the least recently seen beyond this are read again.
CACHED_USERS = 100_000


class UserService:
    """Every update reads its sender, so records are kept in the process, written through.

    Only this service writes users, and one process polls a token (see the README), so a kept
    record is never stale; a failed write forgets it.
    """

    def __init__(self, db: Database, ledger: LedgerService, clock: Clock) -> None:
        self.db = db
        self.ledger = ledger
        self.clock = clock
        self._known: LRU[int, UserRecord] = LRU(CACHED_USERS)

    async def get(self, user_id: int) -> UserRecord | None:
        known = self._known.get(user_id)
        if known is not None:
            return known
        async with self.db.read() as uow:
            found = await uow.users.get(user_id)
        if found is not None:
            self._known.put(user_id, found)
        return found

    @retry_on_conflict()
    async def touch(self, user_id: int, first_name: str, client_language: str | None) -> UserRecord:
        """Register the user on first contact, refresh what the client reports, nothing else.

        The common case (a known user, nothing changed) is one read and no write.
        """
        first_name = _printable(first_name)
        known = await self.get(user_id)
        if known is not None and _unchanged(known, first_name, client_language):
            return known
        self._known.forget(user_id)
        async with self.db.unit_of_work() as uow:
            user = await uow.users.upsert(user_id, first_name, client_language, self.clock.now())
            if known is None:
                await self.ledger.open_accounts(uow, user_id)
        self._known.put(user_id, user)
        return user

    def knows(self, contact: Contact) -> bool:
        """Whether ``touch`` would find this contact as it is, without writing."""
        known = self._known.get(contact.user_id)
        return known is not None and _unchanged(
            known, _printable(contact.first_name), contact.client_language
        )

    @retry_on_conflict()
    async def register(self, contacts: Sequence[Contact]) -> int:
        """Register a batch's first contacts in one unit of work, ahead of their updates.

        The inbox calls this for each batch it stores, so that a burst of new users costs one
        transaction instead of one each. Users already stored are only remembered; one whose
        name or language changed is left to ``touch``. Returns how many were new.
        """
        contacts = list({c.user_id: c for c in contacts if not self.knows(c)}.values())
        if not contacts:
            return 0
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            stored = await uow.users.get_many([c.user_id for c in contacts])
            new = [
                (c.user_id, _printable(c.first_name), c.client_language)
                for c in contacts
                if c.user_id not in stored
            ]
            if new:
                await uow.users.add_many(new, now)
                await self.ledger.open_accounts(uow, *(user_id for user_id, _, _ in new))
        for user in stored.values():
            self._known.put(user.id, user)
        for user_id, first_name, client_language in new:
            self._known.put(
                user_id, UserRecord(user_id, first_name, client_language, None, True, now)
            )
        return len(new)

    @retry_on_conflict()
    async def set_language(self, user_id: int, language: str) -> None:
        self._known.forget(user_id)
        async with self.db.unit_of_work() as uow:
            await uow.users.set_language(user_id, language, self.clock.now())

    @retry_on_conflict()
    async def mark_unreachable(self, user_id: int) -> None:
        self._known.forget(user_id)
        async with self.db.unit_of_work() as uow:
            await uow.users.set_reachable(user_id, False, self.clock.now())
