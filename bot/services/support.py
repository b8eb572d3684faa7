"""Support tickets: one open ticket per user, relayed to the operators' chat and back."""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.storage.database import Database, retry_on_conflict

log = logging.getLogger(__name__)


class SupportService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @retry_on_conflict()
    async def open_ticket(self, user_id: int) -> tuple[int, bool]:
        """The user's open ticket, or a new one: (ticket id, whether it is new)."""
        async with self.db.unit_of_work() as uow:
            existing = await uow.support.open_ticket(user_id)
            if existing is not None:
                return existing, False
            ticket = await uow.support.add_ticket(user_id, self.clock.now())
        log.info("event=ticket_opened user_id=%s ticket=%s", user_id, ticket)
        return ticket, True

    async def current_ticket(self, user_id: int) -> int | None:
        async with self.db.read() as uow:
            return await uow.support.open_ticket(user_id)

    async def relayed(self, ticket_id: int, operators_message_id: int) -> None:
        async with self.db.unit_of_work() as uow:
            await uow.support.add_message(operators_message_id, ticket_id, self.clock.now())

    async def reply_target(self, operators_message_id: int) -> tuple[int, int] | None:
        """(ticket, user) an operator's reply goes to; None if not a relayed, open ticket."""
        async with self.db.read() as uow:
            return await uow.support.ticket_of_message(operators_message_id)

    @retry_on_conflict()
    async def close(self, user_id: int) -> int | None:
        async with self.db.unit_of_work() as uow:
            ticket = await uow.support.open_ticket(user_id)
            if ticket is not None:
                await uow.support.close(ticket, self.clock.now())
        if ticket is not None:
            log.info("event=ticket_closed user_id=%s ticket=%s", user_id, ticket)
        return ticket
