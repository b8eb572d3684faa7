"""APScheduler jobs. Jobs only call services and pass ids, so each is safe to run twice or late."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from bot.services.ledger import LedgerService

log = logging.getLogger(__name__)

LEDGER_AUDIT_HOURS = 6


async def audit_ledger(ledger: LedgerService) -> None:
    """Re-check the ledger invariants; a violation is a bug worth waking someone for."""
    problems = await ledger.check_invariants()
    for problem in problems:
        log.critical("event=ledger_invariant_violated detail=%s", problem)
    if not problems:
        log.info("event=ledger_audit_ok")


def register_jobs(scheduler: AsyncIOScheduler, services: Services) -> None:
    scheduler.add_job(
        audit_ledger,
        "interval",
        hours=LEDGER_AUDIT_HOURS,
        kwargs={"ledger": services.ledger},
        id="audit_ledger",
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
