"""Polling throughput: Giftwallet's batch poller against aiogram's own polling.

Every scenario handles the same updates (``users`` chats, ``per_user`` messages each) from a
fresh Bot API emulator, answering each with one sendMessage. Time runs from the moment the
updates are queued until the last answer is recorded. The baseline is a bare aiogram echo bot
with aiogram's default polling, measured in the same run, so the ratios survive a noisy machine.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bench.inbox_runner import start_inbox_polling
from bot.app import Application
from bot.config import Settings
from bot.emulator import BotAPIEmulator

TOKEN = "123456:bench-token-for-the-local-emulator-only"

Runner = Callable[[BotAPIEmulator, str], Awaitable[Callable[[], Awaitable[None]]]]


async def echo(message: Message) -> None:
    await message.answer(message.text or "")


def _echo_bot(emulator: BotAPIEmulator) -> tuple[Bot, Dispatcher]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    dispatcher = Dispatcher()
    dispatcher.message.register(echo)
    return Bot(TOKEN, session=session), dispatcher


def aiogram_polling(handle_as_tasks: bool) -> Runner:
    async def start(emulator: BotAPIEmulator, data_dir: str) -> Callable[[], Awaitable[None]]:
        bot, dispatcher = _echo_bot(emulator)
        task = asyncio.create_task(
            dispatcher.start_polling(
                bot, polling_timeout=1, handle_as_tasks=handle_as_tasks, handle_signals=False
            )
        )

        async def stop() -> None:
            await dispatcher.stop_polling()
            await task

        return stop

    return start


async def inbox_poller_echo(
    emulator: BotAPIEmulator, data_dir: str
) -> Callable[[], Awaitable[None]]:
    bot, dispatcher = _echo_bot(emulator)
    stop_polling = await start_inbox_polling(dispatcher, bot, Path(data_dir) / "inbox.sqlite3")

    async def stop() -> None:
        await stop_polling()
        await bot.session.close()

    return stop


def giftwallet_app(postgres_url: str | None = None) -> Runner:
    """The whole bot, on SQLite in the run's folder or on a fresh PostgreSQL schema."""

    async def start(emulator: BotAPIEmulator, data_dir: str) -> Callable[[], Awaitable[None]]:
        schema = None
        database_url = f"sqlite:///{Path(data_dir) / 'giftwallet.sqlite3'}"
        if postgres_url is not None:
            schema = f"bench_polling_{Path(data_dir).name.replace('-', '_')}"
            admin = await asyncpg.connect(postgres_url)
            await admin.execute(f'CREATE SCHEMA "{schema}"')
            await admin.close()
            sep = "&" if "?" in postgres_url else "?"
            database_url = f"{postgres_url}{sep}search_path={schema}"
        settings = Settings(
            bot_token=TOKEN,
            telegram_api_url=emulator.base_url,
            data_dir=Path(data_dir),
            database_url=database_url,
            _env_file=None,  # type: ignore[call-arg]
        )
        app = Application(settings, polling_timeout=1)
        task = asyncio.create_task(app.run_polling())

        async def stop() -> None:
            app.request_stop()
            await task
            if schema is not None and postgres_url is not None:
                admin = await asyncpg.connect(postgres_url)
                await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
                await admin.close()

        return stop

    return start


def scenarios(postgres_url: str | None) -> dict[str, tuple[Runner, str]]:
    chosen: dict[str, tuple[Runner, str]] = {
        "aiogram polling, as tasks (baseline)": (aiogram_polling(True), "echo"),
        "aiogram polling, one at a time": (aiogram_polling(False), "echo"),
        "Giftwallet inbox poller, echo": (inbox_poller_echo, "echo"),
        "Giftwallet bot, /balance (SQLite)": (giftwallet_app(), "/balance"),
    }
    if postgres_url:
        chosen["Giftwallet bot, /balance (PostgreSQL)"] = (giftwallet_app(postgres_url), "/balance")
    return chosen


@dataclass(frozen=True)
class Measurement:
    scenario: str
    latency_ms: int
    updates: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


async def _wait_for_answers(emulator: BotAPIEmulator, count: int, limit: float) -> None:
    index = 0
    for _ in range(count):
        call = await emulator.wait_for_call(
            "sendMessage", lambda c: c.error is None, after=index, timeout=limit
        )
        index = call.index + 1


async def measure_once(
    runner: Runner, text: str, *, users: int, per_user: int, latency: float
) -> float:
    emulator = BotAPIEmulator(token=TOKEN, latency=latency)
    await emulator.start()
    with tempfile.TemporaryDirectory(prefix="bench-") as data_dir:
        try:
            mark = emulator.call_count()
            stop = await runner(emulator, data_dir)
            await emulator.wait_for_call("getUpdates", after=mark, timeout=30)
            for user in range(users):
                emulator.add_user(10_000 + user, f"User {user}")
            began = time.perf_counter()
            for _ in range(per_user):
                for user in range(users):
                    await emulator.send_text(10_000 + user, text)
            await _wait_for_answers(emulator, users * per_user, limit=120)
            elapsed = time.perf_counter() - began
            await stop()
        finally:
            await emulator.stop()
    return elapsed


async def run(
    *,
    users: int,
    per_user: int,
    latencies: tuple[float, ...],
    repeats: int,
    postgres_url: str | None = None,
) -> list[Measurement]:
    results = []
    for latency in latencies:
        for name, (runner, text) in scenarios(postgres_url).items():
            times = [
                await measure_once(runner, text, users=users, per_user=per_user, latency=latency)
                for _ in range(repeats)
            ]
            results.append(
                Measurement(name, round(latency * 1000), users * per_user, statistics.median(times))
            )
    return results


def report(results: list[Measurement]) -> str:
    lines = []
    for latency in sorted({m.latency_ms for m in results}):
        rows = [m for m in results if m.latency_ms == latency]
        baseline = rows[0].rate
        lines.append(f"Bot API round trip {latency} ms ({rows[0].updates} updates, median):")
        for m in rows:
            lines.append(f"  {m.scenario:<40} {m.rate:8.1f} updates/s   x{m.rate / baseline:5.2f}")
    return "\n".join(lines)
