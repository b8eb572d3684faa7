"""Shared fixtures: the Bot API emulator and the real bot application polling it."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.config import Settings
from bot.domain.clock import Clock, ShiftedClock
from bot.emulator import BotAPIEmulator
from bot.log_setup import LOG_FORMAT, RedactingFormatter
from bot.playground.delivery import free_port
from bot.storage.database import Database, open_database
from tests.databases import (
    BACKENDS,
    ENABLE_HINT,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    ScratchDatabase,
)
from tests.secrets_scan import leaking_rows, leaks

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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every test that asks for a database runs on SQLite and on PostgreSQL."""
    name: str = request.param
    return name


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of its own for this test (not migrated yet)."""
    folder = tmp_path / "db"
    folder.mkdir()
    database = ScratchDatabase(backend, folder)
    url = await database.create()
    try:
        yield url
        leaked = leaking_rows(await database.dump())
        assert not leaked, f"secrets stored in the database: {leaked}"
    finally:
        await database.drop()


class SecretsWatch(logging.Handler):
    """Formats every record as production does (the token masked) and keeps any secret seen."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(RedactingFormatter(LOG_FORMAT, [TOKEN]))
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if found := leaks(self.format(record)):
            self.found.append(f"{record.name}: {found}")


@pytest.fixture(scope="session")
def secrets_watch() -> Iterator[SecretsWatch]:
    watch = SecretsWatch()
    root = logging.getLogger()
    level = root.level
    root.addHandler(watch)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    for noisy in ("aiogram.event", "apscheduler"):  # as in production (bot/log_setup.py)
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        root.setLevel(level)


@pytest.fixture(autouse=True)
def no_secret_in_logs(secrets_watch: SecretsWatch) -> Iterator[None]:
    """Every test's log lines, at INFO and above, carry no token, password, answer or card."""
    secrets_watch.found.clear()
    yield
    assert not secrets_watch.found, f"secrets in the logs: {secrets_watch.found}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TEST_DATABASE_URL:
        terminalreporter.write_line(f"PostgreSQL tests were skipped: {ENABLE_HINT}.")


@pytest.fixture
def make_settings(
    emulator: BotAPIEmulator, data_dir: Path, database_url: str
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "bot_token": TOKEN,
            "telegram_api_url": emulator.base_url,
            "data_dir": data_dir,
            "database_url": database_url,
            "default_locale": "en",
            "_env_file": None,
        }
        values.update(overrides)
        return Settings(**values)

    return make


WEBHOOK_SECRET = "webhook-secret_for-tests"
REPLICAS_PEPPER = "pepper-every-replica-of-the-tests-shares"
PUBLIC_WEBHOOK_URL = "https://giftwallet.example/telegram/hook"


class RunningBot:
    """The production application, polling the emulator (or serving its webhook) in this loop."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.task: asyncio.Task[None] | None = None

    @property
    def webhook(self) -> bool:
        return self.app.settings.webhook_url is not None

    @property
    def webhook_target(self) -> str:
        """Where the emulator, as the load balancer, posts this replica's updates."""
        return f"http://127.0.0.1:{self.app.settings.webhook_port}/telegram/hook"

    async def start(self, emulator: BotAPIEmulator) -> None:
        mark = emulator.call_count()
        if self.webhook:
            self.task = asyncio.create_task(self.app.run_webhook())
            await emulator.wait_until_serving(self.task, after=mark, limit=15)
        else:
            self.task = asyncio.create_task(self.app.run_polling())
            await emulator.wait_until_polling(self.task, after=mark, limit=15)

    async def settled(self, emulator: BotAPIEmulator, limit: float = 10) -> None:
        """Every queued update fetched, stored and handled."""
        await emulator.wait_until_confirmed(limit=limit)
        await asyncio.wait_for(self.app.inbox.wait_idle(), timeout=limit)
        await self.app.inbox.flush()

    async def notices_out(self, limit: float = 20) -> None:
        """Every queued notice sent (or failed for good), at Telegram's pace of a chat."""
        deadline = asyncio.get_running_loop().time() + limit
        while True:
            async with self.app.db.read() as uow:
                queued = await uow.session.fetchval(
                    "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
                )
            if not queued:
                await self.app.notice_sender.drain()
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{queued} notices still queued after {limit} s")
            self.app.notice_sender.wake()
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.task is None or self.task.done():
            return
        self.app.request_stop()
        await asyncio.wait_for(self.task, timeout=5)


@pytest.fixture
async def start_bot(
    emulator: BotAPIEmulator, make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[Callable[..., Any]]:
    running: list[RunningBot] = []

    targets: list[str] = []

    async def start(
        clock: Clock | None = None, *, webhook: bool = False, **overrides: Any
    ) -> RunningBot:
        if webhook:
            overrides = {
                "webhook_url": PUBLIC_WEBHOOK_URL,
                "webhook_secret": WEBHOOK_SECRET,
                "webhook_port": free_port(),
                **overrides,
            }
            if database_url.startswith("postgres"):  # replicas: one pepper, limits in Redis
                overrides.setdefault("secret_pepper", REPLICAS_PEPPER)
                overrides.setdefault("redis_url", TEST_REDIS_URL or None)
        app = Application(
            make_settings(**overrides), clock=clock or ShiftedClock(), polling_timeout=1
        )
        bot = RunningBot(app)
        if webhook:
            targets.append(bot.webhook_target)
            emulator.balance_webhook(targets)
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
    database_url: str | None = None,
    command: tuple[str, ...] = (),
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
        **({"DATABASE_URL": database_url} if database_url else {}),
        **env_overrides,
    }
    output = asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *command,
        cwd=str(tmp_path),
        env=env,
        stdout=output,
        stderr=output,
    )


async def query(db: Database, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Raw SQL for checks that no service offers; rows as tuples, the same on both backends."""
    async with db.read() as uow:
        return [tuple(row) for row in await uow.session.fetch(sql, *args)]


async def count_rows(url: str, sql: str, *args: Any) -> int:
    """One number from a database that no running application holds open."""
    db = open_database(url)
    await db.connect()
    try:
        async with db.read() as uow:
            return int(await uow.session.fetchval(sql, *args))
    finally:
        await db.close()
