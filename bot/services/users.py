"""Users: registration on first contact, language choice, reachability."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import NamedTuple

from bot.domain.clock import Clock
from bot.domain.models import UserRecord
from bot.services.ledger import LedgerService
from bot.storage.database import Database, retry_on_conflict
from bot.storage.uow import UnitOfWork


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


class UserService:
    """Every update reads its sender, so records are kept in the process, written through.

    Every write returns the row with its version bumped, and a copy replaces the cached one only
    if it is not older: a read that raced a write (another lane of the same user, say) can never
    put the old row back. A failed write forgets the copy.
    """

    def __init__(self, db: Database, ledger: LedgerService, clock: Clock) -> None:
        self.db = db
        self.ledger = ledger
        self.clock = clock
        self._known = db.caches.users  # kept in storage, correct across processes

    async def get(self, user_id: int) -> UserRecord | None:
        known = self._known.get(user_id)
        if known is not None:
            return known
        async with self.db.read() as uow:
            found = await uow.users.get(user_id)
        if found is not None:
            self._remember(found)
        return found

    def _remember(self, user: UserRecord) -> None:
        self._known.remember(user.id, user)

    @retry_on_conflict()
    async def touch(self, user_id: int, first_name: str, client_language: str | None) -> UserRecord:
        """Register the user on first contact, refresh what the client reports, nothing else.

        The common case (a known user, nothing changed) is one read and no write.
        """
        first_name = _printable(first_name)
        known = await self.get(user_id)
        if known is not None and _unchanged(known, first_name, client_language):
            return known
        try:
            async with self.db.unit_of_work() as uow:
                user = await uow.users.upsert(
                    user_id, first_name, client_language, self.clock.now()
                )
                if known is None:
                    await self.ledger.open_accounts(uow, user_id)
        except BaseException:
            self._known.forget(user_id)
            raise
        self._remember(user)
        return user

    def knows(self, contact: Contact) -> bool:
        """Whether ``touch`` would find this contact as it is, without writing."""
        known = self._known.get(contact.user_id)
        return known is not None and _unchanged(
            known, _printable(contact.first_name), contact.client_language
        )

    @retry_on_conflict()
    async def register(self, contacts: Sequence[Contact]) -> list[int]:
        """Register a batch's first contacts in one unit of work, ahead of their updates.

        The inbox calls this for each batch it stores, so that a burst of new users costs one
        transaction instead of one each. Users already stored are only remembered; one whose
        name or language changed is left to ``touch``. Returns the ids of those that were new.
        """
        contacts = list({c.user_id: c for c in contacts if not self.knows(c)}.values())
        if not contacts:
            return []
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
            self._remember(user)
        for user_id, first_name, client_language in new:
            self._remember(UserRecord(user_id, first_name, client_language, None, True, now))
        return [user_id for user_id, _, _ in new]

    @retry_on_conflict()
    async def set_language(self, user_id: int, language: str) -> None:
        await self._write(user_id, lambda uow, now: uow.users.set_language(user_id, language, now))

    @retry_on_conflict()
    async def mark_unreachable(self, user_id: int) -> None:
        await self._write(user_id, lambda uow, now: uow.users.set_reachable(user_id, False, now))

    async def _write(
        self,
        user_id: int,
        change: Callable[[UnitOfWork, datetime], Awaitable[UserRecord | None]],
    ) -> None:
        """One write of the user's row; the row it returned becomes the cached copy."""
        try:
            async with self.db.unit_of_work() as uow:
                user = await change(uow, self.clock.now())
        except BaseException:
            self._known.forget(user_id)
            raise
        if user is None:
            self._known.forget(user_id)
        else:
            self._remember(user)
