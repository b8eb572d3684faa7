"""Throughput: the real bot process against the emulator in this process, the echo bot interleaved.

The bot under test runs as its own process (``python -m bot`` or ``python -m bench.echo_bot``),
so the emulator and the load generator here do not share its CPU. Each user keeps one update in
flight: it sends, waits for the answer, sends the next. An update is answered when the bot's
first message or edit for that chat is recorded (a button tap: when its callback query is
answered, which comes after the edit).

- **mix**: returning users (each pressed /start once before the clock starts) run a realistic
  mix: Balance taps, /start, menu navigation, /cashback, /orders, catalog pages, gift links.
- **new**: every update is a user's first /start, so it registers the user.
- **burst**: returning users in 1,000 distinct chats, every chat's update released at once (half
  Balance taps, the rest /start and /balance), in rounds: the cost per update, no lane waits.
- **load**: returning users at a fixed offered load (``load_rate`` updates a second, each user
  once), for latency percentiles rather than throughput.

Scenarios run echo, Giftwallet, echo, Giftwallet ... and each ratio is the median of its run
against the echo bot's median in the same run.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench.common import cpu_seconds, resident_memory, scratch_schema
from bot.emulator import BotAPIEmulator, Call
from bot.playground.delivery import free_port

TOKEN = "123456:bench-token-for-the-local-emulator-only"
ROOT = Path(__file__).resolve().parents[1]
CONTENT = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendInvoice"}
ECHO = "echo bot (aiogram's defaults)"
SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"
POLLING, WEBHOOK = "polling", "webhook"
WEBHOOK_SECRET = "bench-webhook-secret"
GIFTWALLET = "Giftwallet bot"

# (weight, kind, payload): a message's text or a button's callback data.
MIX: tuple[tuple[int, str, str], ...] = (
    (30, "tap", "m:balance"),
    (10, "text", "/start"),
    (10, "tap", "m:home"),
    (8, "tap", "m:shop"),
    (5, "tap", "m:buy"),
    (5, "tap", "m:orders"),
    (5, "tap", "m:cashback"),
    (8, "text", "/cashback"),
    (6, "text", "/orders"),
    (5, "text", "/balance"),
    (5, "text", "/shop"),
    (3, "text", "/start gift_unknowncode42"),
)


@dataclass
class Tracker:
    """Resolves each user's pending update when its answer is recorded."""

    waiting_chat: dict[int, asyncio.Future[float]] = field(default_factory=dict)
    waiting_query: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    answered_query: dict[str, float] = field(default_factory=dict)  # before anyone waited
    last_sent: dict[int, int] = field(default_factory=dict)  # the bot's latest message a chat
    content_calls: int = 0

    def __call__(self, call: Call) -> None:
        if not call.ok:
            return
        if call.method == "answerCallbackQuery":
            query_id = str(call.params.get("callback_query_id"))
            future = self.waiting_query.pop(query_id, None)
            if future is None:
                self.answered_query[query_id] = call.time
            elif not future.done():
                future.set_result(call.time)
            return
        if call.method not in CONTENT:
            return
        self.content_calls += 1
        chat = int(call.params["chat_id"])
        if call.method == "sendMessage":
            self.last_sent[chat] = int(call.result["message_id"])
        future = self.waiting_chat.pop(chat, None)
        if future is not None and not future.done():
            future.set_result(call.time)


class Driver:
    def __init__(self, emulator: BotAPIEmulator) -> None:
        self.emulator = emulator
        self.tracker = Tracker()
        emulator.on_call(self.tracker)

    async def send(self, user: int, text: str) -> float:
        """Send a message; the seconds until its answer."""
        future = asyncio.get_running_loop().create_future()
        self.tracker.waiting_chat[user] = future
        began = self.emulator.clock()
        await self.emulator.send_text(user, text)
        return await asyncio.wait_for(future, 60) - began

    async def tap(self, user: int, data: str) -> float:
        """Tap a button on the bot's latest message in the chat; /start when there is none.
        The press is sent as Telegram sends it, whether the message shows that button or not
        (the echo bot draws none), so both bots get the same update."""
        message_id = self.tracker.last_sent.get(user)
        if message_id is None:
            return await self.send(user, "/start")
        future = asyncio.get_running_loop().create_future()
        began = self.emulator.clock()
        query_id = await self.emulator.send_callback(user, data, message_id)
        if query_id in self.tracker.answered_query:  # answered while the tap was being sent
            return self.tracker.answered_query.pop(query_id) - began
        self.tracker.waiting_query[query_id] = future
        return await asyncio.wait_for(future, 60) - began

    async def act(self, user: int, kind: str, payload: str) -> float:
        return await (self.tap(user, payload) if kind == "tap" else self.send(user, payload))


def actions(seed: int, count: int) -> Iterator[tuple[str, str]]:
    chance = random.Random(seed)
    weights = [w for w, _, _ in MIX]
    for _ in range(count):
        _, kind, payload = chance.choices(MIX, weights)[0]
        yield kind, payload


def _log_file(folder: Path) -> IO[bytes]:
    """The bot's warnings and errors, counted after the run: a fast bot that fails is no win."""
    return (folder / "bot.log").open("ab")


def errors_logged(folder: Path) -> int:
    path = folder / "bot.log"
    if not path.exists():
        return 0
    return sum("level=ERROR" in line for line in path.read_text("utf-8").splitlines())


def bot_env(emulator: BotAPIEmulator, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a bot under test: this checkout, the emulator, its own data dir."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.base_url,
        "DATA_DIR": str(folder / "data"),
        "LOG_LEVEL": "WARNING",
        **{name: os.environ[name] for name in ("PYTHONHASHSEED",) if name in os.environ},
        **settings,
    }


@asynccontextmanager
async def bot_process(
    which: str,
    emulator: BotAPIEmulator,
    folder: Path,
    database_url: str | None,
    delivery: str = POLLING,
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = bot_env(emulator, folder, **({"DATABASE_URL": database_url} if database_url else {}))
    module = "bot" if which == GIFTWALLET else "bench.echo_bot"
    mark = emulator.call_count()
    command = [sys.executable, "-m", module]
    started = "getUpdates"
    if delivery == WEBHOOK:
        port = free_port()
        emulator.balance_webhook([f"http://127.0.0.1:{port}/hook"])
        env |= {"WEBHOOK_URL": "https://bench.example/hook", "WEBHOOK_SECRET": WEBHOOK_SECRET}
        if which == GIFTWALLET:
            command.append("webhook")
            env["WEBHOOK_PORT"] = str(port)
        else:
            env["ECHO_WEBHOOK_PORT"] = str(port)
        started = "setWebhook"
    if profile := os.environ.get("BENCH_PROFILE"):  # collapsed stacks, one file per bot
        output = f"{profile}.{which}"
        command = ["py-spy", "record", "-r", "250", "-f", "raw", "-o", output, "--", *command]
    log = _log_file(folder)
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=str(folder),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )
    try:
        await emulator.wait_for_call(started, after=mark, timeout=60)
        yield process
    finally:
        if process.returncode is None:
            # py-spy writes its profile on SIGINT and stops the bot with it.
            process.send_signal(signal.SIGINT if "py-spy" in command[0] else signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


@asynccontextmanager
async def _schema(postgres_url: str | None) -> AsyncIterator[str | None]:
    if postgres_url is None:
        yield None
        return
    async with scratch_schema(postgres_url, "throughput") as url:
        yield url


@dataclass(frozen=True)
class Run:
    bot: str
    workload: str
    latency_ms: int
    updates: int
    seconds: float
    waits: list[float]
    messages: int  # the bot's messages and edits, the warm-up's included
    errors: int  # ERROR lines in the bot's log
    rss: int  # the bot process's resident memory at the end, in bytes
    cpu: float = 0.0  # the bot process's CPU seconds (user + system) over the measured part
    database: str = SQLITE  # Giftwallet's; the echo bot keeps nothing
    delivery: str = POLLING  # how both bots get their updates

    @property
    def cpu_per_update(self) -> float:
        return self.cpu / self.updates if self.updates else 0.0

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _warm_up(driver: Driver, users: list[int]) -> None:
    """Returning users: each has pressed /start and holds the menu."""
    for batch in range(0, len(users), 50):
        await asyncio.gather(*(driver.send(user, "/start") for user in users[batch : batch + 50]))


async def measure(
    which: str,
    workload: str,
    *,
    users: int,
    per_user: int,
    latency: float,
    load_rate: float,
    seed: int,
    postgres_url: str | None,
    delivery: str = POLLING,
) -> Run:
    emulator = BotAPIEmulator(token=TOKEN, latency=latency)
    await emulator.start()
    driver = Driver(emulator)
    ids = [1_000_000 + n for n in range(users)]
    for user in ids:
        emulator.add_user(user, f"User {user}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-tp-") as folder:
            async with (
                _schema(postgres_url if which == GIFTWALLET else None) as database_url,
                bot_process(which, emulator, Path(folder), database_url, delivery) as process,
            ):
                if workload != "new":
                    await _warm_up(driver, ids)
                cpu_before = cpu_seconds(process.pid)
                harness_before = time.process_time()
                began = emulator.clock()
                if workload == "mix":
                    waits = await _closed_loop(driver, ids, per_user, seed)
                elif workload == "burst":
                    waits = await _bursts(driver, ids, BURST_ROUNDS, seed)
                elif workload == "new":
                    waits = list(await asyncio.gather(*(driver.send(u, "/start") for u in ids)))
                else:
                    waits = await _open_loop(driver, ids, load_rate, seed)
                seconds = emulator.clock() - began
                cpu = cpu_seconds(process.pid) - cpu_before
                harness = time.process_time() - harness_before
                rss = resident_memory(process.pid)
            errors = errors_logged(Path(folder))
    finally:
        await emulator.stop()
    if os.environ.get("BENCH_VERBOSE"):  # each run, to tell a slow process from a slow harness
        print(
            f"  run: {which}, {workload}: {len(waits) / seconds:.1f}/s,"
            f" CPU {cpu / len(waits) * 1000:.2f} ms/update,"
            f" bot busy {cpu / seconds:.0%}, harness busy {harness / seconds:.0%}",
            file=sys.stderr,
            flush=True,
        )
    return Run(
        which,
        workload,
        round(latency * 1000),
        len(waits),
        seconds,
        waits,
        driver.tracker.content_calls,
        errors,
        rss,
        cpu,
        POSTGRESQL if postgres_url else SQLITE,
        delivery,
    )


async def _closed_loop(driver: Driver, users: list[int], per_user: int, seed: int) -> list[float]:
    async def user_session(user: int) -> list[float]:
        return [await driver.act(user, kind, data) for kind, data in actions(seed + user, per_user)]

    sessions = await asyncio.gather(*(user_session(user) for user in users))
    return [wait for session in sessions for wait in session]


BURST_ROUNDS = 3
# A burst's updates: half Balance taps, the rest /start and /balance.
BURST: tuple[tuple[int, str, str], ...] = (
    (2, "tap", "m:balance"),
    (1, "text", "/start"),
    (1, "text", "/balance"),
)


async def _bursts(driver: Driver, users: list[int], rounds: int, seed: int) -> list[float]:
    """Every user's update released at once, one round after another: distinct chats, so
    nothing waits on a lane, and the bot's cost per update shows."""
    chance = random.Random(seed)
    weights = [w for w, _, _ in BURST]
    waits: list[float] = []
    for _ in range(rounds):
        picks = [chance.choices(BURST, weights)[0] for _ in users]
        waits += await asyncio.gather(
            *(
                driver.act(user, kind, data)
                for user, (_, kind, data) in zip(users, picks, strict=True)
            )
        )
    return waits


async def _open_loop(driver: Driver, users: list[int], rate: float, seed: int) -> list[float]:
    """Each user acts once, at ``rate`` actions a second whatever the answers take."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    pending = []
    for n, (user, (kind, data)) in enumerate(zip(users, actions(seed, len(users)), strict=True)):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.ensure_future(driver.act(user, kind, data)))
    return list(await asyncio.gather(*pending))


async def run(
    *,
    users: int = 200,
    per_user: int = 10,
    new_users: int = 1000,
    load_users: int = 1000,
    load_rate: float = 200,
    latencies: tuple[float, ...] = (0.0, 0.03),
    repeats: int = 3,
    postgres_url: str | None = None,
    workloads: tuple[str, ...] = ("mix", "burst", "new", "load"),
    deliveries: tuple[str, ...] = (POLLING, WEBHOOK),
) -> list[Run]:
    """Each workload at each round trip: polling and webhooks on SQLite, and polling on
    PostgreSQL given a URL; each Giftwallet run beside an echo run of its own (on the same
    delivery), so a ratio never compares two moments."""
    results: list[Run] = []
    sizes = {"mix": users, "burst": new_users, "new": new_users, "load": load_users}
    plans = [(workload, sizes[workload]) for workload in workloads]
    setups = [(None, delivery) for delivery in deliveries]
    if postgres_url:
        setups.append((postgres_url, POLLING))
    for (database, delivery), latency in itertools.product(setups, latencies):
        for workload, count in plans:
            for repeat in range(repeats):
                for which in (ECHO, GIFTWALLET):  # interleaved: the same noise for both
                    # The emulator and the load share this process: what earlier runs left
                    # is collected now and frozen, not walked by a collection mid-run (that
                    # pause landed in both bots' p99 alike).
                    gc.collect()
                    gc.freeze()
                    results.append(
                        await measure(
                            which,
                            workload,
                            users=count,
                            per_user=per_user,
                            latency=latency,
                            load_rate=load_rate,
                            seed=repeat,
                            postgres_url=database,
                            delivery=delivery,
                        )
                    )
    return results


def report(results: list[Run]) -> str:
    lines = []
    titles = {
        "mix": "returning users, realistic mix, as fast as answered",
        "new": "new users, each one's first /start",
        "burst": "returning users, distinct chats released at once, 3 rounds",
        "load": "returning users at a fixed offered load",
    }
    groups = dict.fromkeys(
        (r.database, r.delivery, r.latency_ms) for r in results if r.bot == GIFTWALLET
    )
    for database, delivery, latency in groups:
        lines.append(
            f"{database}, {delivery}, Bot API round trip {latency} ms"
            " (bot in its own process, median of runs):"
        )
        for workload, title in titles.items():
            # Each echo run sits right before the Giftwallet run it is compared with.
            paired = [
                (echo, ours)
                for echo, ours in itertools.pairwise(results)
                if echo.bot == ECHO
                and ours.bot == GIFTWALLET
                and (ours.database, ours.delivery, ours.latency_ms, ours.workload)
                == (database, delivery, latency, workload)
            ]
            if not paired:
                continue
            echo = [e for e, _ in paired]
            ours = [o for _, o in paired]
            first = echo[0]
            lines.append(f"  {title} ({first.updates} updates):")
            base = statistics.median(r.rate for r in echo)
            for name, group in ((ECHO, echo), (GIFTWALLET, ours)):
                rate = statistics.median(r.rate for r in group)
                p50 = statistics.median(r.quantile(0.5) for r in group) * 1000
                p99 = statistics.median(r.quantile(0.99) for r in group) * 1000
                shown = f"{rate:8.1f} updates/s   x{rate / base:5.2f}"
                if workload == "load":
                    shown = f"offered {first.updates / first.seconds:6.1f}/s"
                errors = sum(r.errors for r in group)
                rss = statistics.median(r.rss for r in group) / 2**20
                cpu = statistics.median(r.cpu_per_update for r in group) * 1000
                lines.append(
                    f"    {name:<38} {shown}   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
                    f"   CPU {cpu:4.2f} ms/update   RSS {rss:4.0f} MiB"
                    + (f"   ({errors} errors logged!)" if errors else "")
                )
            if workload != "load" and len(paired) > 1:
                each = " ".join(f"x{o.rate / e.rate:.2f}" for e, o in paired)
                lines.append(f"    {'each run against its own echo run':<38} {each}")
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - a quick manual run: python -m bench.throughput
    results = asyncio.run(run(users=50, per_user=5, new_users=200, load_users=200, repeats=1))
    print(report(results))


if __name__ == "__main__":
    main()
