"""APScheduler jobs. Jobs only call services and pass ids, so each is safe to run twice or late.

Every replica schedules them; only the leader (bot/runtime/leader.py) does the work.

Each looks for what is due by the injected clock, so after downtime the first run catches up on
everything that fell due meanwhile, and the playground's time travel simply runs them all.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.runtime.leader import Leadership
from bot.services import Services
from bot.services.ledger import LedgerService
from bot.storage.errors import StorageError

log = logging.getLogger(__name__)

LEDGER_AUDIT_HOURS = 6


async def audit_ledger(ledger: LedgerService) -> None:
    """Re-check the ledger invariants; a violation is a bug worth waking someone for."""
    problems = await ledger.check_invariants()
    for problem in problems:
        log.critical("event=ledger_invariant_violated detail=%s", problem)
    if not problems:
        log.info("event=ledger_audit_ok")


async def release_holds(services: Services) -> None:
    """Accruals past their hold become available; each user gets one notice."""
    released = await services.cashback.release_due()
    if released:
        log.info("event=job_release_holds amount=%s", released)


async def remind_and_auto_confirm(services: Services) -> None:
    """The "confirm receipt" reminder first, then delivered orders past protection complete."""
    reminded = await services.orders.remind_due()
    confirmed = await services.orders.auto_confirm_due()
    if reminded or confirmed:
        log.info("event=job_auto_confirm reminded=%s confirmed=%s", reminded, confirmed)


async def expire_gifts(services: Services) -> None:
    """Unclaimed gift codes past GIFT_TTL go back to the giver, who is told."""
    returned = await services.gifts.expire_due()
    if returned:
        log.info("event=job_expire_gifts gifts=%s", [gift.id for gift in returned])


async def forget_nonces(services: Services) -> None:
    """The Mini App's confirmation nonces, a day after they lapsed."""
    forgotten = await services.security.forget_nonces()
    if forgotten:
        log.info("event=job_forget_nonces nonces=%d", forgotten)


def guarded(
    job: Callable[..., Awaitable[None]], leader: Leadership | None = None
) -> Callable[..., Awaitable[None]]:
    """Run on the leader only. A database outage skips one run (the next catches up) instead of
    a scheduler traceback."""

    async def run(**kwargs: Any) -> None:
        if leader is not None and not leader.holds():
            log.debug("event=job_left_to_leader job=%s", job.__name__)
            return
        try:
            await job(**kwargs)
        except StorageError as exc:
            log.warning("event=job_skipped job=%s error=%s", job.__name__, exc)

    run.__name__ = job.__name__
    return run


def register_jobs(
    scheduler: AsyncIOScheduler,
    services: Services,
    interval: timedelta,
    leader: Leadership | None = None,
) -> None:
    every = {"coalesce": True, "max_instances": 1, "replace_existing": True}
    scheduler.add_job(
        guarded(audit_ledger, leader),
        "interval",
        hours=LEDGER_AUDIT_HOURS,
        kwargs={"ledger": services.ledger},
        id="audit_ledger",
        **every,
    )
    for job in (release_holds, remind_and_auto_confirm, expire_gifts, forget_nonces):
        scheduler.add_job(
            guarded(job, leader),
            "interval",
            seconds=interval.total_seconds(),
            kwargs={"services": services},
            id=job.__name__,
            next_run_time=datetime.now(UTC),  # catch up at start on what fell due while down
            **every,
        )
