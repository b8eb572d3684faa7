"""Support tickets: one open ticket per user, relayed to the operators' chat and back.

Every message between a user and the operators goes through the outbox, written in the unit of
work of the ticket it belongs to and keyed by the Telegram message that asked for it, so a
replayed update relays nothing twice.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.domain.clock import Clock
from bot.domain.errors import SupportTextTooLong
from bot.services.notices import SUPPORT, write_notice, write_to_operators
from bot.storage.database import Database, retry_on_conflict
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# Drawn when it goes out, with the user's latest charges.
PAYMENT_TICKET = "ops-paysupport-card"
# A relayed message is one Telegram message (4,096 characters) with a line naming the ticket
# and the sender above the text: longer ones are refused with their length, never cut.
TEXT_MAX = 3800


class SupportService:
    def __init__(self, db: Database, clock: Clock, operators_chat: int | None = None) -> None:
        self.db = db
        self.clock = clock
        self.operators_chat = operators_chat

    @property
    def available(self) -> bool:
        return self.operators_chat is not None

    @retry_on_conflict()
    async def open_ticket(self, user_id: int) -> tuple[int, bool]:
        """The user's open ticket, or a new one: (ticket id, whether it is new)."""
        async with self.db.unit_of_work() as uow:
            return await self._open(uow, user_id)

    async def _open(self, uow: UnitOfWork, user_id: int) -> tuple[int, bool]:
        existing = await uow.support.open_ticket(user_id)
        if existing is not None:
            return existing, False
        ticket = await uow.support.add_ticket(user_id, self.clock.now())
        log.info("event=ticket_opened user_id=%s ticket=%s", user_id, ticket)
        return ticket, True

    @retry_on_conflict()
    async def open_payment_ticket(self, user_id: int, name: str, *, key: str) -> int:
        """A payment-support ticket: the operators get the user's recent charges with it."""
        async with self.db.unit_of_work() as uow:
            ticket, _ = await self._open(uow, user_id)
            await self._to_operators(
                uow, PAYMENT_TICKET, ticket, key, user_id=str(user_id), name=name
            )
        return ticket

    @retry_on_conflict()
    async def relay(self, user_id: int, name: str, text: str, *, key: str) -> int:
        """A user's message to the operators, in their open ticket (opened if need be)."""
        _check_length(text)
        async with self.db.unit_of_work() as uow:
            ticket, _ = await self._open(uow, user_id)
            await self._to_operators(
                uow, "support-relayed", ticket, key, user_id=str(user_id), name=name, text=text
            )
        return ticket

    @retry_on_conflict()
    async def reply(self, operators_message_id: int, text: str, *, key: str) -> int | None:
        """An operator's reply to a relayed message, to the ticket's user; the ticket, or None
        when the message is not a relayed one of an open ticket."""
        if self.operators_chat is None:
            return None
        _check_length(text)
        async with self.db.unit_of_work() as uow:
            target = await uow.support.ticket_of_message(self.operators_chat, operators_message_id)
            if target is None:
                return None
            ticket, user_id = target
            await write_notice(
                uow,
                user_id,
                SUPPORT,
                "support-reply",
                self.clock.now(),
                key=key,
                card=f"ticket:{ticket}",
                ticket=str(ticket),
                text=text,
            )
        return ticket

    @retry_on_conflict()
    async def close(self, user_id: int) -> int | None:
        async with self.db.unit_of_work() as uow:
            ticket = await uow.support.open_ticket(user_id)
            if ticket is not None:
                await uow.support.close(ticket, self.clock.now())
                await self._to_operators(
                    uow, "support-closed-ops", ticket, f"ticket-closed:{ticket}"
                )
        if ticket is not None:
            log.info("event=ticket_closed user_id=%s ticket=%s", user_id, ticket)
        return ticket

    async def _to_operators(
        self, uow: UnitOfWork, template: str, ticket: int, key: str, **params: Any
    ) -> None:
        await write_to_operators(
            uow,
            self.operators_chat,
            template,
            self.clock.now(),
            key=key,
            card=f"ticket:{ticket}",
            ticket=str(ticket),
            **params,
        )


def _check_length(text: str) -> None:
    if len(text) > TEXT_MAX:
        raise SupportTextTooLong(length=len(text), max=TEXT_MAX)
