"""Fairness: how long ordinary users wait while one chat floods or waits out a 429.

With a 30 ms Bot API round trip (the emulator's simulated latency):
- **flood**: one user taps his Balance button 500 times as fast as a script can, then 20 other
  users each send /balance; their waits are measured from sending to the bot's answer.
- **retry_after**: one user's reply meets "429 retry after 8"; while the bot waits it out for
  that chat, 19 other users send /balance.
Both run against the real Application (the same factory as production) on SQLite.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.app import Application
from bot.config import Settings
from bot.emulator import BotAPIEmulator

TOKEN = "123456:bench-token-for-the-local-emulator-only"
FLOODER = 70_000
OTHERS = [71_000 + n for n in range(20)]


@dataclass(frozen=True)
class Waits:
    scenario: str
    seconds: list[float]

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _answered_in(emulator: BotAPIEmulator, user: int, text: str) -> float:
    loop = asyncio.get_running_loop()
    mark = emulator.call_count()
    began = loop.time()
    await emulator.send_text(user, text)
    await emulator.wait_for_call(
        "sendMessage",
        lambda c: int(c.params["chat_id"]) == user and c.error is None,
        after=mark,
        timeout=60,
    )
    return loop.time() - began


async def flood(emulator: BotAPIEmulator, *, taps: int = 500, others: int = 20) -> Waits:
    emulator.add_user(FLOODER, "Flooder")
    menu = await emulator.send_text(FLOODER, "/start")
    reply = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == FLOODER, timeout=30
    )
    del menu
    for user in OTHERS[:others]:
        emulator.add_user(user, f"User {user}")
    for _ in range(taps):
        await emulator.press_button(FLOODER, reply.result["message_id"], "m:balance")
    waits = await asyncio.gather(
        *(_answered_in(emulator, user, "/balance") for user in OTHERS[:others])
    )
    return Waits("flood: 500 taps by one user", list(waits))


async def retry_after(emulator: BotAPIEmulator, *, wait: int = 8, others: int = 19) -> Waits:
    emulator.add_user(FLOODER, "Slow chat")
    for user in OTHERS[:others]:
        emulator.add_user(user, f"User {user}")
    mark = emulator.call_count()
    emulator.fail_next("sendMessage", retry_after=wait)
    await emulator.send_text(FLOODER, "/balance")
    await emulator.wait_for_call("sendMessage", lambda c: c.error_code == 429, after=mark)
    waits = await asyncio.gather(
        *(_answered_in(emulator, user, "/balance") for user in OTHERS[:others])
    )
    return Waits(f"retry_after {wait} s in one chat", list(waits))


Scenario = Callable[[BotAPIEmulator], Awaitable[Waits]]


async def measure(scenario: Scenario, *, latency: float = 0.03) -> Waits:
    emulator = BotAPIEmulator(token=TOKEN, latency=latency)
    await emulator.start()
    with tempfile.TemporaryDirectory(prefix="bench-fair-") as folder:
        settings = Settings(
            bot_token=TOKEN,
            telegram_api_url=emulator.base_url,
            data_dir=Path(folder),
            database_url=f"sqlite:///{Path(folder) / 'giftwallet.sqlite3'}",
            _env_file=None,  # type: ignore[call-arg]
        )
        app = Application(settings, polling_timeout=1)
        task = asyncio.create_task(app.run_polling())
        try:
            await emulator.wait_until_polling(task)
            return await scenario(emulator)
        finally:
            app.request_stop()
            await asyncio.wait_for(task, timeout=15)
            await emulator.stop()


async def run() -> list[Waits]:
    return [await measure(flood), await measure(retry_after)]


def report(results: list[Waits]) -> str:
    lines = ["Fairness at a 30 ms Bot API round trip (other users' waits for /balance):"]
    for waits in results:
        lines.append(
            f"  {waits.scenario:<34} p50 {waits.quantile(0.5):6.2f} s   "
            f"p99 {waits.quantile(0.99):6.2f} s   max {max(waits.seconds):6.2f} s"
            f"   ({len(waits.seconds)} users, mean {statistics.mean(waits.seconds):.2f} s)"
        )
    return "\n".join(lines)
