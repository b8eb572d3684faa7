"""Leases: which replica handles a chat's lane, and which one runs the scheduled jobs.

A lease is claimed with a conditional upsert: it goes to the claimer when it is free, lapsed,
or already the claimer's. Many lanes are claimed, renewed or released in one statement. A
released lane keeps its row with no owner (``''``) and its last one in ``previous_owner``: a claim
returns who held each lane before it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.storage.session import Session, listed_texts

_PENDING = "done_at IS NULL AND parked_at IS NULL"


class LeaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def claim_lanes(
        self, lanes: Collection[str], owner: str, now: datetime, until: datetime
    ) -> dict[str, str | None]:
        """Take the lanes that are free, lapsed or ours already. Returns those now ours, each
        with the process that held it before (None for a lane never held)."""
        if not lanes:
            return {}
        source, listed = listed_texts(self.session, lanes)
        # "WHERE true" lets SQLite read ON CONFLICT after a SELECT (its parser needs it).
        rows = await self.session.fetch(
            f"INSERT INTO lanes (lane, owner, expires_at) SELECT lane, $2, $3 FROM ({source}) AS l"
            " WHERE true ORDER BY lane ON CONFLICT (lane) DO UPDATE"
            " SET previous_owner = COALESCE(NULLIF(lanes.owner, ''), lanes.previous_owner),"
            " owner = excluded.owner, expires_at = excluded.expires_at"
            " WHERE lanes.owner IN (excluded.owner, '') OR lanes.expires_at <= $4"
            " RETURNING lane, previous_owner",
            listed,
            owner,
            until,
            now,
        )
        return {row[0]: row[1] for row in rows}

    async def renew_lanes(self, owner: str, until: datetime) -> set[str]:
        """Extend every lease this owner holds; returns the lanes it still holds."""
        rows = await self.session.fetch(
            "UPDATE lanes SET expires_at = $2 WHERE owner = $1 RETURNING lane", owner, until
        )
        return {row[0] for row in rows}

    async def release_lanes(self, lanes: Collection[str], owner: str) -> set[str]:
        """Give up the lanes that have nothing left to handle; returns those given up. A lane
        that gained an update meanwhile (stored by another replica) stays ours."""
        if not lanes:
            return set()
        source, listed = listed_texts(self.session, lanes)
        if self.session.dialect == "postgresql":
            # Wait for a store that is claiming one of these lanes to commit; the next statement
            # takes a fresh snapshot and sees its row. (SQLite runs one writer at a time.)
            await self.session.fetch(
                f"SELECT lane FROM lanes WHERE owner = $2 AND lane IN (SELECT lane FROM ({source})"
                " AS l) ORDER BY lane FOR UPDATE",
                listed,
                owner,
            )
        rows = await self.session.fetch(
            "UPDATE lanes SET previous_owner = owner, owner = ''"
            f" WHERE owner = $2 AND lane IN (SELECT lane FROM ({source}) AS l)"
            f" AND NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.lane = lanes.lane AND {_PENDING})"
            " RETURNING lane",
            listed,
            owner,
        )
        return {row[0] for row in rows}

    async def lapse(self, now: datetime, owner: str | None = None) -> int:
        """End leases at once: an owner's own after its restart, or everyone's when only one
        process can be running (SQLite). Returns how many."""
        if owner is None:
            rows = await self.session.fetch(
                "UPDATE lanes SET expires_at = $1 WHERE owner <> '' AND expires_at > $1"
                " RETURNING lane",
                now,
            )
        else:
            rows = await self.session.fetch(
                "UPDATE lanes SET expires_at = $1 WHERE owner = $2 AND expires_at > $1"
                " RETURNING lane",
                now,
                owner,
            )
        return len(rows)

    async def unowned_lanes(self, now: datetime, limit: int) -> list[str]:
        """Lanes with updates waiting and no live lease: a replica died, or a release raced."""
        rows = await self.session.fetch(
            "SELECT DISTINCT i.lane FROM inbox AS i LEFT JOIN lanes AS l ON l.lane = i.lane"
            " WHERE i.done_at IS NULL AND i.parked_at IS NULL"
            " AND (l.lane IS NULL OR l.owner = '' OR l.expires_at <= $1) LIMIT $2",
            now,
            limit,
        )
        return [row[0] for row in rows]

    async def lane_owners(self) -> dict[str, str]:
        """The lanes held now, released ones left out."""
        rows = await self.session.fetch("SELECT lane, owner FROM lanes WHERE owner <> ''")
        return {row[0]: row[1] for row in rows}

    # --- the leader -----------------------------------------------------------------------------

    async def claim_leader(self, role: str, owner: str, now: datetime, until: datetime) -> bool:
        """Lead ``role`` (or go on leading it) unless another holder's lease is live."""
        found = await self.session.fetchval(
            "INSERT INTO leaders (role, owner, expires_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (role) DO UPDATE"
            " SET owner = excluded.owner, expires_at = excluded.expires_at"
            " WHERE leaders.owner = excluded.owner OR leaders.expires_at <= $4"
            " RETURNING role",
            role,
            owner,
            until,
            now,
        )
        return found is not None

    async def resign_leader(self, role: str, owner: str) -> None:
        await self.session.execute(
            "DELETE FROM leaders WHERE role = $1 AND owner = $2", role, owner
        )
