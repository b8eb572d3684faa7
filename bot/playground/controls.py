"""The playground's controls: Telegram faults to arm and a clock to move forward."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.app import Application
from bot.domain.clock import ShiftedClock
from bot.emulator import BotAPIEmulator
from bot.playground.http import telegram_id

log = logging.getLogger(__name__)

TIME_STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "15days": timedelta(days=15)}


def arm_fault(emulator: BotAPIEmulator, body: dict[str, Any]) -> dict[str, Any]:
    """Arms one fault; a ValueError names what the page got wrong."""
    kind = body.get("kind")
    if kind == "flood":
        # One fault, taken by whichever comes first: it fires once.
        emulator.fail_next(("sendMessage", "editMessageText"), retry_after=2)
        return {"armed": "the next send or edit answers 429, retry after 2 s"}
    if kind == "block":
        user_id = telegram_id(body.get("user_id"))
        if body.get("blocked", True):
            emulator.block(user_id)
        else:
            emulator.unblock(user_id)
        return {"blocked": bool(body.get("blocked", True))}
    if kind == "duplicate_payment":
        emulator.duplicate_next_payment()
        return {"armed": "the next successful_payment arrives twice"}
    raise ValueError("kind must be flood, block or duplicate_payment")


async def travel(app: Application, clock: ShiftedClock, step_name: Any) -> dict[str, Any]:
    """Moves the clock one step and runs the scheduled jobs that fell due, as they would."""
    step = TIME_STEPS.get(str(step_name))
    if step is None:
        raise ValueError(f"step must be one of {', '.join(TIME_STEPS)}")
    clock.advance(step)
    jobs = await app.run_scheduled_jobs()
    log.info("event=time_travel step=%s jobs_run=%d", step_name, jobs)
    return {
        "now": clock.now().isoformat(),
        "offset_seconds": int(clock.offset.total_seconds()),
        "jobs_run": jobs,
    }
