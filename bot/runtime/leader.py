"""One leader among the replicas for the scheduled jobs and the reconciliation.

Every replica runs the scheduler; a job does its work only on the replica that holds the
``scheduler`` lease in the database. The leader renews it every third of the lease; if it dies
(or cannot reach the database), the lease lapses and another replica takes the role.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from bot.domain.clock import Clock
from bot.storage.database import Database
from bot.storage.errors import StorageError

log = logging.getLogger(__name__)

ROLE = "scheduler"


class Leadership:
    def __init__(self, db: Database, clock: Clock, *, owner: str, lease: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self._leading = False
        self._renewed = 0.0  # loop time of the last successful claim
        self._task: asyncio.Task[None] | None = None

    def holds(self) -> bool:
        """True while this replica leads, with a lease recent enough that it cannot have
        lapsed (so a new leader cannot have started yet)."""
        fresh = asyncio.get_running_loop().time() - self._renewed < self.lease.total_seconds() * 0.8
        return self._leading and fresh

    async def campaign(self) -> bool:
        """Claim or renew the role once; True when this replica leads."""
        started = asyncio.get_running_loop().time()
        now = self.clock.now()
        try:
            async with self.db.unit_of_work() as uow:
                leading = await uow.leases.claim_leader(ROLE, self.owner, now, now + self.lease)
        except StorageError as exc:
            log.warning("event=leader_renewal_failed error=%s", type(exc).__name__)
            return self.holds()
        if leading != self._leading:
            log.info("event=leader_%s role=%s", "elected" if leading else "lost", ROLE)
        self._leading = leading
        if leading:
            self._renewed = started
        return leading

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="leadership")

    async def _run(self) -> None:
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            await self.campaign()

    async def stop(self) -> None:
        """Stop renewing and hand the role over at once rather than when the lease lapses."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._leading:
            self._leading = False
            with contextlib.suppress(StorageError):
                async with self.db.unit_of_work() as uow:
                    await uow.leases.resign_leader(ROLE, self.owner)
