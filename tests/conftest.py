"""Shared fixtures: the Bot API emulator and the real bot application polling it."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.clock import Clock, ShiftedClock
from bot.config import Settings
from bot.playground.emulator import BotAPIEmulator

TOKEN = "123456:TEST-token-for-the-fake-bot-api-server"


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    server = BotAPIEmulator(token=TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def make_settings(emulator: BotAPIEmulator, data_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "bot_token": TOKEN,
            "telegram_api_url": emulator.base_url,
            "data_dir": data_dir,
            "default_locale": "en",
            "_env_file": None,
        }
        values.update(overrides)
        return Settings(**values)

    return make


class RunningBot:
    """The production application, polling the emulator in this event loop."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.task: asyncio.Task[None] | None = None

    async def start(self, emulator: BotAPIEmulator) -> None:
        mark = emulator.call_count()
        self.task = asyncio.create_task(self.app.run_polling())
        await emulator.wait_until_polling(self.task, after=mark, limit=15)

    async def stop(self) -> None:
        if self.task is None or self.task.done():
            return
        self.app.request_stop()
        await asyncio.wait_for(self.task, timeout=5)


@pytest.fixture
async def start_bot(
    emulator: BotAPIEmulator, make_settings: Callable[..., Settings]
) -> AsyncIterator[Callable[..., Any]]:
    running: list[RunningBot] = []

    async def start(clock: Clock | None = None, **overrides: Any) -> RunningBot:
        app = Application(
            make_settings(**overrides), clock=clock or ShiftedClock(), polling_timeout=1
        )
        bot = RunningBot(app)
        await bot.start(emulator)
        running.append(bot)
        return bot

    yield start
    for bot in running:
        await bot.stop()


@pytest.fixture
async def bot(start_bot: Callable[..., Any]) -> RunningBot:
    running: RunningBot = await start_bot()
    return running


async def spawn_bot_process(
    emulator: BotAPIEmulator,
    tmp_path: Path,
    *,
    capture: bool = True,
    **env_overrides: str,
) -> asyncio.subprocess.Process:
    """The production entry point, ``python -m bot``, as its own process against the emulator."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.base_url,
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "INFO",
        **env_overrides,
    }
    output = asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=str(tmp_path), env=env, stdout=output, stderr=output
    )
