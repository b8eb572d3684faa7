"""Crash suite: the real bot process is killed (SIGKILL) mid-batch, again and again.

Every update must still be answered once the bot is back, and handling one twice must change
nothing: the batch poller confirms a batch only after all of it was handled.
"""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

from bot.playground.emulator import BotAPIEmulator
from tests.conftest import TOKEN, count_rows, spawn_bot_process

USERS = [5000 + n for n in range(40)]
KILLS = 2  # each restart costs seconds: importing aiogram.types is slow


async def test_sigkill_mid_batch_loses_no_update(tmp_path: Path, database_url: str) -> None:
    chaos = random.Random(20261130)
    emulator = BotAPIEmulator(token=TOKEN, latency=0.01)  # a little like a real server
    await emulator.start()
    process: asyncio.subprocess.Process | None = None
    try:
        for user in USERS:
            emulator.add_user(user, f"User {user}")
            await emulator.send_text(user, "/start")

        for _ in range(KILLS):
            mark = emulator.call_count()
            process = await spawn_bot_process(
                emulator, tmp_path, capture=False, database_url=database_url, LOG_LEVEL="WARNING"
            )
            # Kill while answers are going out, i.e. in the middle of a batch.
            await emulator.wait_for_call("sendMessage", after=mark, timeout=30)
            await asyncio.sleep(chaos.uniform(0, 0.05))
            process.send_signal(signal.SIGKILL)
            await process.wait()

        process = await spawn_bot_process(
            emulator, tmp_path, capture=False, database_url=database_url, LOG_LEVEL="WARNING"
        )
        for user in USERS:
            await emulator.wait_for_call(
                "sendMessage",
                lambda c, u=user: int(c.params["chat_id"]) == u and c.error is None,
                timeout=30,
            )
    finally:
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=10)
        await emulator.stop()

    answered = {int(c.params["chat_id"]) for c in emulator.calls("sendMessage") if c.error is None}
    assert answered == set(USERS)
    # Some updates were handled more than once, and that changed nothing.
    handled = len([c for c in emulator.calls("sendMessage") if c.error is None])
    assert handled >= len(USERS)
    assert await count_rows(database_url, "SELECT COUNT(*) FROM users") == len(USERS)
    user_accounts = "SELECT COUNT(*) FROM accounts WHERE user_id IS NOT NULL"
    assert await count_rows(database_url, user_accounts) == 3 * len(USERS)
    assert emulator.pending_updates() == 0
