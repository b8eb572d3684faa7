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

    async def add_message(self, operators_message_id: int, ticket_id: int, now: datetime) -> None:
        await self.session.execute(
            "INSERT INTO support_messages (operators_message_id, ticket_id, created_at)"
            " VALUES ($1, $2, $3) ON CONFLICT (operators_message_id) DO NOTHING",
            operators_message_id,
            ticket_id,
            now,
        )

    async def ticket_of_message(self, operators_message_id: int) -> tuple[int, int] | None:
        """(ticket id, user id) of an open ticket that a relayed message belongs to."""
        row = await self.session.fetchrow(
            "SELECT t.id, t.user_id FROM support_messages m"
            " JOIN support_tickets t ON t.id = m.ticket_id"
            " WHERE m.operators_message_id = $1 AND t.closed_at IS NULL",
            operators_message_id,
        )
        return (int(row[0]), int(row[1])) if row else None
