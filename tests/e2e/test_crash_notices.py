"""150 notices going out when the real bot process is SIGKILLed, then restarted on the same
database: every notice arrives, repeats stay within the documented window (the messages in flight
at the kill, at most NOTICE_RATE), and Telegram's limits hold, checked from the emulator's clock.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
from datetime import UTC, datetime
from pathlib import Path

from bot.emulator import BotAPIEmulator, Call
from bot.storage.database import open_database
from tests.conftest import TOKEN, count_rows, spawn_bot_process
from tests.e2e.test_notices import markers, queue

USERS = [9000 + n for n in range(30)]
PER_USER = 5
RATE = 30
LEASE = 3


def delivered(emulator: BotAPIEmulator) -> list[Call]:
    return [c for c in emulator.calls("sendMessage") if c.ok and int(c.params["chat_id"]) in USERS]


async def test_sigkill_while_150_notices_go_out(tmp_path: Path, database_url: str) -> None:
    emulator = BotAPIEmulator(token=TOKEN, latency=0.01)
    await emulator.start()
    db = open_database(database_url)
    await db.connect()
    await db.migrate()
    marker = 0
    now = datetime.now(UTC)
    for _ in range(PER_USER):  # round robin: each chat's notices are spread over the queue
        for user in USERS:
            marker += 1
            await queue(db, user, marker, now)
    await db.close()
    for user in USERS:
        emulator.add_user(user, f"User {user}")

    async def spawn() -> asyncio.subprocess.Process:
        return await spawn_bot_process(
            emulator,
            tmp_path,
            capture=False,
            database_url=database_url,
            LOG_LEVEL="WARNING",
            NOTICE_RATE=str(RATE),
            NOTICE_LEASE=str(LEASE),
            NOTICE_POLL="0.2",
        )

    process = await spawn()
    unsent = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
    try:
        for _ in range(600):  # kill once a third has gone out, with sends in flight
            if len(delivered(emulator)) >= 50:
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        killed_at = len(delivered(emulator))
        assert killed_at < marker, "the kill came while notices were going out"
        assert await count_rows(database_url, unsent) > 0

        process = await spawn()
        for _ in range(600):
            if await count_rows(database_url, unsent) == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=10)
        await emulator.stop()

    sends = delivered(emulator)
    seen = markers(sends)
    assert set(seen) == {f"{n:04d}" for n in range(1, marker + 1)}, "every notice arrived"
    repeated = sum(count - 1 for count in seen.values())
    assert repeated <= RATE, f"{repeated} notices went out twice"
    # At most RATE messages in any second, and at most one a second in each chat.
    times = sorted(call.time for call in sends)
    assert all(later - first >= 1.0 for first, later in zip(times, times[RATE:], strict=False))
    for user in USERS:
        chat = [c.time for c in sends if int(c.params["chat_id"]) == user]
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(chat)), (user, chat)
    assert (
        await count_rows(database_url, "SELECT COUNT(*) FROM outbox WHERE failed_at IS NOT NULL")
        == 0
    )
