"""The notices outbox: rows written with their event, claimed by a sender under a lease."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.domain.models import Notice
from bot.storage.session import Row, Session

# The advisory lock claims take turns on: one per schema, so bots sharing a database (or tests
# running side by side in schemas of their own) never wait for each other.
_CLAIM_LOCK = "SELECT pg_advisory_xact_lock(hashtext('giftwallet.outbox.' || current_schema()))"

_NOTICE = "id, chat_id, kind, template, params, created_at, attempts, card, follows_card"

# A row is claimable when it is due, not leased, its chat is reachable, nothing went to its chat
# since $4 (the per-chat pace, kept in the database so every sender and a restart honour it), and
# none of its chat's rows is waiting (leased elsewhere or backing off): a chat's notices keep
# their order. Each exclusion is a list of chats computed once per claim (NOT IN a subquery,
# which both engines hash), never a subquery per candidate row: with stale statistics
# PostgreSQL planned the correlated form as a nested loop that took seconds at 10,000 rows.
_CLAIMABLE = """
    SELECT o.id FROM outbox o
    WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1
      AND (o.lease_until IS NULL OR o.lease_until < $1)
      AND o.chat_id NOT IN (SELECT u.id FROM users u WHERE u.reachable = FALSE)
      AND o.chat_id NOT IN (SELECT s.chat_id FROM outbox s WHERE s.sent_at > $4)
      AND o.chat_id NOT IN (
          SELECT e.chat_id FROM outbox e
          WHERE e.lease_until >= $1 AND e.sent_at IS NULL AND e.failed_at IS NULL)
      AND o.chat_id NOT IN (
          SELECT b.chat_id FROM outbox b
          WHERE b.next_attempt_at > $1 AND b.sent_at IS NULL AND b.failed_at IS NULL)
    ORDER BY o.id LIMIT $3
"""


def _notice(row: Row) -> Notice:
    params = row["params"]
    return Notice(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        template=row["template"],
        params=json.loads(params) if isinstance(params, str) else dict(params),
        created_at=row["created_at"],
        attempts=row["attempts"],
        card=row["card"],
        follows_card=bool(row["follows_card"]),
    )


def _marks(start: int, count: int) -> str:
    return ", ".join(f"${n}" for n in range(start, start + count))


class OutboxRepository:
    def __init__(self, session: Session, on_queued: Callable[[], None] | None = None) -> None:
        self.session = session
        self._on_queued = on_queued

    async def depth(self) -> tuple[int, int]:
        """(notices waiting to be sent, notices failed for good)."""
        row = await self.session.fetchrow(
            "SELECT COUNT(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),"
            " COUNT(*) FILTER (WHERE failed_at IS NOT NULL) FROM outbox"
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def add(
        self,
        chat_id: int,
        kind: str,
        template: str,
        params: dict[str, Any],
        now: datetime,
        *,
        card: str | None = None,
        follows_card: bool = False,
        key: str | None = None,
    ) -> bool:
        """Queue a notice, unless the user switched its kind off or ``key`` queued it before;
        True when queued."""
        if await self.session.fetchval(
            "SELECT 1 FROM notice_muted WHERE user_id = $1 AND kind = $2", chat_id, kind
        ):
            return False
        row = await self.session.fetchrow(
            "INSERT INTO outbox (chat_id, kind, template, params, created_at, next_attempt_at,"
            " card, follows_card, idempotency_key) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            chat_id,
            kind,
            template,
            json.dumps(params, separators=(",", ":")),
            now,
            card,
            follows_card,
            key,
        )
        if row is not None and self._on_queued is not None:
            self._on_queued()
        return row is not None

    async def claim(
        self, now: datetime, lease_until: datetime, limit: int, chat_quiet_since: datetime
    ) -> list[Notice]:
        """Lease due rows to this sender, skipping chats that got a notice after
        ``chat_quiet_since``. PostgreSQL skips rows another sender is claiming; SQLite has one
        writer at a time, so the conditional update alone is enough."""
        claimable = _CLAIMABLE
        if self.session.dialect == "postgresql":
            # Claims take turns: two at once would each see the other's chat heads unleased
            # and could send a chat's second notice before its first. A claim is one short
            # statement, so the wait is short; SKIP LOCKED passes rows being marked meanwhile.
            await self.session.fetchval(_CLAIM_LOCK)
            claimable += " FOR UPDATE OF o SKIP LOCKED"
        rows = await self.session.fetch(
            "UPDATE outbox SET lease_until = $2, attempts = attempts + 1"
            f" WHERE id IN ({claimable}) RETURNING {_NOTICE}",
            now,
            lease_until,
            limit,
            chat_quiet_since,
        )
        return sorted((_notice(row) for row in rows), key=lambda notice: notice.id)

    async def mark_sent(
        self, ids: Sequence[int], now: datetime, message_id: int | None = None
    ) -> None:
        """Sent as one message: its parameters are blanked (a relayed text is not kept), and
        the rows that show a record remember the message, to edit it or map a reply to it."""
        await self.session.execute(
            "UPDATE outbox SET sent_at = $1, lease_until = NULL, params = '{}'"
            f" WHERE id IN ({_marks(2, len(ids))})",
            now,
            *ids,
        )
        if message_id is None:
            return
        await self.session.execute(
            "INSERT INTO chat_messages (chat_id, message_id, card, created_at)"
            " SELECT chat_id, $1, card, $2 FROM outbox"
            f" WHERE id IN ({_marks(3, len(ids))}) AND card IS NOT NULL"
            " ORDER BY id DESC LIMIT 1"
            " ON CONFLICT (chat_id, message_id) DO NOTHING",
            message_id,
            now,
            *ids,
        )

    async def card_message(self, chat_id: int, card: str) -> int | None:
        """The newest message the sender put in ``chat_id`` for ``card``."""
        value = await self.session.fetchval(
            "SELECT MAX(message_id) FROM chat_messages WHERE chat_id = $1 AND card = $2",
            chat_id,
            card,
        )
        return None if value is None else int(value)

    async def retry_later(
        self, ids: Sequence[int], at: datetime, error: str, *, counts: bool = True
    ) -> None:
        """Back to the queue at ``at``; a wait Telegram asked for does not use up an attempt."""
        await self.session.execute(
            "UPDATE outbox SET lease_until = NULL, next_attempt_at = $1, last_error = $2,"
            " attempts = attempts - $3"
            f" WHERE id IN ({_marks(4, len(ids))}) AND sent_at IS NULL",
            at,
            error[:500],
            0 if counts else 1,
            *ids,
        )

    async def release(self, ids: Sequence[int], at: datetime) -> None:
        """Give claimed rows back unsent, due at ``at``, without using up an attempt."""
        await self.session.execute(
            "UPDATE outbox SET lease_until = NULL, next_attempt_at = $1,"
            " attempts = attempts - 1"
            f" WHERE id IN ({_marks(2, len(ids))}) AND sent_at IS NULL",
            at,
            *ids,
        )

    async def mark_failed(self, ids: Sequence[int], now: datetime, error: str) -> None:
        await self.session.execute(
            "UPDATE outbox SET failed_at = $1, lease_until = NULL, last_error = $2"
            f" WHERE id IN ({_marks(3, len(ids))}) AND sent_at IS NULL",
            now,
            error[:500],
            *ids,
        )

    async def next_due(self) -> datetime | None:
        value = await self.session.fetchval(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
        )
        return None if value is None else value

    async def recent(self, limit: int) -> list[tuple[Notice, str]]:
        """The newest rows with their state, for the playground's inspector."""
        rows = await self.session.fetch(
            f"SELECT {_NOTICE}, CASE WHEN sent_at IS NOT NULL THEN 'sent'"
            " WHEN failed_at IS NOT NULL THEN 'failed' ELSE 'queued' END AS state"
            " FROM outbox ORDER BY id DESC LIMIT $1",
            limit,
        )
        return [(_notice(row), row["state"]) for row in rows]

    async def prune(self, before: datetime, limit: int) -> int:
        """Forget sent rows older than ``before``: the outbox is a queue, not an archive."""
        rows = await self.session.fetch(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at < $1"
            " ORDER BY id LIMIT $2) RETURNING id",
            before,
            limit,
        )
        return len(rows)

    # --- what each user wants -------------------------------------------------------------------

    async def muted(self, user_id: int) -> frozenset[str]:
        rows = await self.session.fetch("SELECT kind FROM notice_muted WHERE user_id = $1", user_id)
        return frozenset(row["kind"] for row in rows)

    async def set_muted(self, user_id: int, kind: str, muted: bool) -> None:
        if muted:
            await self.session.execute(
                "INSERT INTO notice_muted (user_id, kind) VALUES ($1, $2)"
                " ON CONFLICT (user_id, kind) DO NOTHING",
                user_id,
                kind,
            )
        else:
            await self.session.execute(
                "DELETE FROM notice_muted WHERE user_id = $1 AND kind = $2", user_id, kind
            )
