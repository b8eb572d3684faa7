"""The update inbox: raw updates in, handled one lane at a time, done, parked or pruned."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.storage.session import Row, Session, listed_texts


@dataclass(slots=True)
class InboxRow:
    update_id: int
    lane: str
    kind: str
    user_id: int | None
    payload: str
    received_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None
    parked_at: datetime | None = None
    # The update as this process received it, never stored: spares parsing ``payload`` again.
    received: dict[str, Any] | None = field(default=None, compare=False, repr=False)


_COLUMNS = (
    "update_id, lane, kind, user_id, payload, received_at, attempts, next_attempt_at,"
    " last_error, parked_at"
)


def _row(row: Row) -> InboxRow:
    return InboxRow(
        update_id=row["update_id"],
        lane=row["lane"],
        kind=row["kind"],
        user_id=row["user_id"],
        payload=row["payload"],
        received_at=row["received_at"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        parked_at=row["parked_at"] if row["parked_at"] is not None else None,
    )


class InboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def add(self, rows: Sequence[InboxRow]) -> None:
        """Store fetched updates; one Telegram delivered before (a re-fetch) is left as it is."""
        await self.session.executemany(
            "INSERT INTO inbox (update_id, lane, kind, user_id, payload, received_at, attempts,"
            " next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $6)"
            " ON CONFLICT (update_id) DO NOTHING",
            [(r.update_id, r.lane, r.kind, r.user_id, r.payload, r.received_at) for r in rows],
        )

    async def known(self, update_ids: Sequence[int]) -> set[int]:
        """Which of these update ids the inbox already holds (one range query)."""
        if not update_ids:
            return set()
        rows = await self.session.fetch(
            "SELECT update_id FROM inbox WHERE update_id BETWEEN $1 AND $2",
            min(update_ids),
            max(update_ids),
        )
        return {row[0] for row in rows} & set(update_ids)

    async def pending(self, limit: int) -> list[InboxRow]:
        """Rows neither done nor parked, oldest first: what a restart must handle again."""
        rows = await self.session.fetch(
            f"SELECT {_COLUMNS} FROM inbox WHERE done_at IS NULL AND parked_at IS NULL"
            " ORDER BY update_id LIMIT $1",
            limit,
        )
        return [_row(row) for row in rows]

    async def waiting_in(self, lanes: Collection[str]) -> list[InboxRow]:
        """What waits in these lanes, oldest first: a lane's updates as its new owner sees them."""
        if not lanes:
            return []
        source, listed = listed_texts(self.session, lanes)
        rows = await self.session.fetch(
            f"SELECT {_COLUMNS} FROM inbox WHERE done_at IS NULL AND parked_at IS NULL"
            f" AND lane IN (SELECT lane FROM ({source}) AS l) ORDER BY update_id",
            listed,
        )
        return [_row(row) for row in rows]

    async def oldest_pending(self) -> datetime | None:
        """When the oldest update still waiting to be handled arrived (None: nothing waits)."""
        value: datetime | None = await self.session.fetchval(
            "SELECT MIN(received_at) AS oldest_at FROM inbox"
            " WHERE done_at IS NULL AND parked_at IS NULL"
        )
        return value

    async def mark_done(self, finished: Mapping[int, datetime]) -> None:
        """Done when each first finished (so a lane's order can be read back; a process that
        handled it again after its lease lapsed elsewhere does not move it), and the raw update
        forgotten: it may carry what a user typed (a password, an answer, a card number), and
        nothing needs it once it is handled."""
        await self.session.executemany(
            "UPDATE inbox SET done_at = $1, payload = '{}'"
            " WHERE update_id = $2 AND done_at IS NULL",
            [(when, update_id) for update_id, when in finished.items()],
        )

    async def retry_later(
        self, update_id: int, attempts: int, next_attempt_at: datetime, error: str
    ) -> None:
        await self.session.execute(
            "UPDATE inbox SET attempts = $1, next_attempt_at = $2, last_error = $3"
            " WHERE update_id = $4",
            attempts,
            next_attempt_at,
            error,
            update_id,
        )

    async def park(self, update_id: int, attempts: int, error: str, now: datetime) -> None:
        await self.session.execute(
            "UPDATE inbox SET attempts = $1, last_error = $2, parked_at = $3 WHERE update_id = $4",
            attempts,
            error,
            now,
            update_id,
        )

    async def parked(self, limit: int = 100) -> list[InboxRow]:
        rows = await self.session.fetch(
            f"SELECT {_COLUMNS} FROM inbox WHERE parked_at IS NOT NULL ORDER BY update_id LIMIT $1",
            limit,
        )
        return [_row(row) for row in rows]

    async def unpark(self, update_id: int, now: datetime) -> bool:
        """Put a parked row back in its lane with fresh attempts; False if it is not parked."""
        found = await self.session.fetchval(
            "UPDATE inbox SET parked_at = NULL, attempts = 0, next_attempt_at = $1"
            " WHERE update_id = $2 AND parked_at IS NOT NULL RETURNING update_id",
            now,
            update_id,
        )
        return found is not None

    async def prune(self, done_before: datetime) -> int:
        """Forget done rows older than the retention period; returns how many."""
        rows = await self.session.fetch(
            "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < $1 RETURNING update_id",
            done_before,
        )
        return len(rows)

    async def counts(self) -> dict[str, int]:
        row = await self.session.fetchrow(
            "SELECT"
            " COUNT(*) FILTER (WHERE done_at IS NULL AND parked_at IS NULL),"
            " COUNT(*) FILTER (WHERE parked_at IS NOT NULL),"
            " COUNT(*) FILTER (WHERE done_at IS NOT NULL)"
            " FROM inbox"
        )
        assert row is not None
        return {"pending": int(row[0]), "parked": int(row[1]), "done": int(row[2])}
