"""Support tickets and the relayed messages that point back to them."""

from __future__ import annotations

from datetime import datetime

from bot.storage.session import Session


class SupportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def open_ticket(self, user_id: int) -> int | None:
        value = await self.session.fetchval(
            "SELECT id FROM support_tickets WHERE user_id = $1 AND closed_at IS NULL", user_id
        )
        return int(value) if value is not None else None

    async def add_ticket(self, user_id: int, now: datetime) -> int:
        value = await self.session.fetchval(
            "INSERT INTO support_tickets (user_id, opened_at) VALUES ($1, $2) RETURNING id",
            user_id,
            now,
        )
        return int(value)

    async def close(self, ticket_id: int, now: datetime) -> None:
        await self.session.execute(
            "UPDATE support_tickets SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
            now,
            ticket_id,
        )

    async def ticket_of_message(self, chat_id: int, message_id: int) -> tuple[int, int] | None:
        """(ticket id, user id) of the open ticket a message in the operators' chat shows: a
        relayed message the outbox sent, or one relayed before the outbox did it."""
        card = await self.session.fetchval(
            "SELECT card FROM chat_messages WHERE chat_id = $1 AND message_id = $2",
            chat_id,
            message_id,
        )
        if card is not None and str(card).startswith("ticket:"):
            ticket = int(str(card).removeprefix("ticket:"))
        else:
            found = await self.session.fetchval(
                "SELECT ticket_id FROM support_messages WHERE operators_message_id = $1",
                message_id,
            )
            if found is None:
                return None
            ticket = int(found)
        user = await self.session.fetchval(
            "SELECT user_id FROM support_tickets WHERE id = $1 AND closed_at IS NULL", ticket
        )
        return None if user is None else (ticket, int(user))
