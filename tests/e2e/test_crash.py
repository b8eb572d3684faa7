"""Crash suite: the real bot process is killed (SIGKILL) mid-batch, again and again.

Every update must still be answered once the bot is back, and handling one twice must change
nothing: an update is confirmed to Telegram only once it is stored in the inbox, and what the
inbox holds undone is handled after the restart.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bot.emulator import BotAPIEmulator, Call
from tests.conftest import TOKEN, count_rows, spawn_bot_process

USERS = [5000 + n for n in range(40)]
# One kill here (test_crash_payments kills more): a restart costs seconds of importing aiogram.
KILLS = 1
# Each user sends this many messages per burst: one chat's messages are handled in order, at
# LATENCY per answer, so a burst stays in hand for at least (PER_BURST - 1) x LATENCY.
PER_BURST = 3
LATENCY = 0.03


async def test_sigkill_mid_batch_loses_no_update(tmp_path: Path, database_url: str) -> None:
    chaos = random.Random(20261130)
    emulator = BotAPIEmulator(token=TOKEN, latency=LATENCY)
    await emulator.start()
    process: asyncio.subprocess.Process | None = None
    sent: Counter[int] = Counter()

    async def burst(text: str) -> None:
        for _ in range(PER_BURST):
            for user in USERS:
                await emulator.send_text(user, text)
                sent[user] += 1

    def to(user: int) -> Callable[[Call], bool]:
        return lambda c: int(c.params["chat_id"]) == user and c.error is None

    def answered(user: int) -> int:
        return len([c for c in emulator.calls("sendMessage") if to(user)(c)])

    async def spawn() -> asyncio.subprocess.Process:
        return await spawn_bot_process(
            emulator, tmp_path, capture=False, database_url=database_url, LOG_LEVEL="WARNING"
        )

    try:
        for user in USERS:
            emulator.add_user(user, f"User {user}")
        for round_ in range(KILLS):
            await burst("/start" if round_ == 0 else "/balance")
            mark = emulator.call_count()
            process = await spawn()
            # Kill while answers are going out: the burst is still in hand.
            await emulator.wait_for_call("sendMessage", after=mark, timeout=30)
            await asyncio.sleep(chaos.uniform(0, LATENCY))
            process.send_signal(signal.SIGKILL)
            await process.wait()
            # The kill came while the burst was in hand: stored, confirmed, not all handled.
            undone = "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL"
            assert await count_rows(database_url, undone) > 0

        await burst("/balance")
        process = await spawn()
        await emulator.wait_until_confirmed(limit=60)
        for user in USERS:  # handled from the inbox, after it was confirmed
            while answered(user) < sent[user]:
                await emulator.wait_for_call(
                    "sendMessage", to(user), after=emulator.call_count(), timeout=30
                )
    finally:
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=10)
        await emulator.stop()

    answers = Counter(
        int(c.params["chat_id"]) for c in emulator.calls("sendMessage") if c.error is None
    )
    # Every message was answered (the killed bursts were taken up again from the inbox).
    assert all(answers[user] >= sent[user] for user in USERS), (answers, sent)
    assert await count_rows(database_url, "SELECT COUNT(*) FROM inbox") == sum(sent.values())
    # Handling a /start twice registered nobody twice.
    assert await count_rows(database_url, "SELECT COUNT(*) FROM users") == len(USERS)
    user_accounts = "SELECT COUNT(*) FROM accounts WHERE user_id IS NOT NULL"
    assert await count_rows(database_url, user_accounts) == 3 * len(USERS)
    assert emulator.pending_updates() == 0
