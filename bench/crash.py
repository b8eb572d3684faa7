"""Crash benchmark: how many paid updates a polling mode loses when the process is killed.

The same small bot runs with aiogram's default polling (handlers as tasks, the next getUpdates
confirming the batch at once) and with Giftwallet's inbox poller. Payments arrive in bursts
while the bot is SIGKILLed at random moments and restarted; at the end every payment that the
bot never recorded, and that Telegram will never deliver again, is lost.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.emulator import BotAPIEmulator

TOKEN = "123456:bench-token-for-the-local-emulator-only"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CrashResult:
    mode: str
    sent: int
    credited: int
    kills: int

    @property
    def lost(self) -> int:
        return self.sent - self.credited


async def _spawn(mode: str, emulator: BotAPIEmulator, db: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "API_URL": emulator.base_url,
        "BOT_TOKEN": TOKEN,
        "CRASH_DB": str(db),
        "PYTHONPATH": str(ROOT),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.crash_bot",
        mode,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def run_mode(
    mode: str, *, bursts: int, burst_size: int, seed: int, latency: float
) -> CrashResult:
    chaos = random.Random(seed)
    emulator = BotAPIEmulator(token=TOKEN, latency=latency)
    await emulator.start()
    kills = 0
    with tempfile.TemporaryDirectory(prefix="crash-") as folder:
        db = Path(folder) / "credited.sqlite3"
        users = list(range(20_000, 20_000 + burst_size))
        for user in users:
            emulator.add_user(user, f"Payer {user}")
        try:
            for _ in range(bursts):
                mark = emulator.call_count()
                process = await _spawn(mode, emulator, db)
                await emulator.wait_for_call("getUpdates", after=mark, timeout=60)
                for user in users:
                    await emulator.send_text(user, "paid")
                # Kill at a random moment after the burst arrived, the same for both modes:
                # the chaos does not look at what the bot is doing.
                await asyncio.sleep(chaos.uniform(0.02, 0.25))
                process.send_signal(signal.SIGKILL)
                await process.wait()
                kills += 1
            # A last run with no kill: it handles whatever Telegram still holds.
            mark = emulator.call_count()
            process = await _spawn(mode, emulator, db)
            await emulator.wait_for_call("getUpdates", after=mark, timeout=60)
            await emulator.wait_until_confirmed()
            await _until_credited(db, bursts * burst_size, limit=5.0)
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()
        finally:
            await emulator.stop()
        with sqlite3.connect(db) as ledger:
            credited = ledger.execute("SELECT COUNT(*) FROM credited").fetchone()[0]
    return CrashResult(mode, bursts * burst_size, credited, kills)


async def _until_credited(db: Path, total: int, *, limit: float) -> None:
    """Give the last run's handlers time to finish: until all are credited, or ``limit``."""
    deadline = asyncio.get_running_loop().time() + limit
    while asyncio.get_running_loop().time() < deadline:
        if _credited(db) >= total:
            return
        await asyncio.sleep(0.1)


def _credited(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as ledger:
        return int(ledger.execute("SELECT COUNT(*) FROM credited").fetchone()[0])


async def run(*, bursts: int, burst_size: int, latency: float) -> list[CrashResult]:
    return [
        await run_mode(mode, bursts=bursts, burst_size=burst_size, seed=7, latency=latency)
        for mode in ("default", "inbox")
    ]


def report(results: list[CrashResult]) -> str:
    names = {"default": "aiogram default polling", "inbox": "Giftwallet inbox poller"}
    lines = ["Crash: payments lost after SIGKILLs mid-batch (same seed, same bursts):"]
    for r in results:
        lines.append(
            f"  {names[r.mode]:<26} {r.lost:4d} of {r.sent} lost "
            f"({100 * r.lost / r.sent:.1f} %) over {r.kills} kills"
        )
    return "\n".join(lines)
