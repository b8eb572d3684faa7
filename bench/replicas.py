"""Replicas: the whole bot polling, and on webhooks with 1, 2 and 3 replicas, in one run.

Every topology runs on the same PostgreSQL server and Redis, as its own processes (``python -m
bot`` or ``python -m bot webhook``), against the emulator in this process, which delivers
webhooks as Telegram does (per-queue FIFO, one post in flight) and spreads the posts over the
replicas as a load balancer would. Returning users run the throughput benchmark's mix, each
with one update in flight; a wait is from the update's arrival at the emulator to the bot's
answer. CPU is what the bot processes used (user + system, from /proc) over the measured part,
per update.

After the measured part of the 3-replica run, one replica is SIGKILLed while users keep acting:
the takeover is the time until no lane it held has an update waiting.
"""

from __future__ import annotations

import asyncio
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import cpu_seconds, scratch_schema
from bench.throughput import TOKEN, Driver, _closed_loop, _warm_up, bot_env, errors_logged
from bot.emulator import BotAPIEmulator
from bot.playground.delivery import free_port
from bot.storage.database import open_database

SECRET = "bench-webhook-secret"
PEPPER = "bench-pepper-" + "x" * 32
POLLING = "polling, 1 process"


@dataclass(frozen=True)
class Run:
    topology: str
    latency_ms: int
    updates: int
    seconds: float
    waits: list[float]
    cpu: float  # seconds, all the topology's processes
    errors: int
    takeover: float | None = None

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.waits)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@asynccontextmanager
async def processes(
    replicas: int, emulator: BotAPIEmulator, folder: Path, database_url: str, redis_url: str
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """The bot's processes: one poller (``replicas`` 0) or that many webhook replicas."""
    started: list[asyncio.subprocess.Process] = []
    ports = [free_port() for _ in range(replicas)]
    if replicas:
        emulator.balance_webhook([f"http://127.0.0.1:{port}/hook" for port in ports])
    log = (folder / "bot.log").open("ab")
    try:
        for index in range(max(1, replicas)):
            env = bot_env(
                emulator,
                folder,
                DATABASE_URL=database_url,
                REDIS_URL=redis_url,
                SECRET_PEPPER=PEPPER,
            )
            command = [sys.executable, "-m", "bot"]
            wait_for = "getUpdates"
            if replicas:
                command.append("webhook")
                wait_for = "setWebhook"
                env |= {
                    "WEBHOOK_URL": "https://bench.example/hook",
                    "WEBHOOK_SECRET": SECRET,
                    "WEBHOOK_PORT": str(ports[index]),
                }
            mark = emulator.call_count()
            started.append(
                await asyncio.create_subprocess_exec(
                    *command,
                    cwd=str(folder),
                    env=env,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=log,
                )
            )
            await emulator.wait_for_call(wait_for, after=mark, timeout=60)
        yield started
    finally:
        for process in started:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


async def _takeover(
    driver: Driver, ids: list[int], victim: asyncio.subprocess.Process, database_url: str
) -> float:
    """SIGKILL one replica while users act; seconds until its lanes with updates waiting are
    all held by others."""
    load = asyncio.ensure_future(_closed_loop(driver, ids, 3, seed=99))
    await asyncio.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    db = open_database(database_url)
    await db.connect()
    try:
        while True:
            async with db.read() as uow:
                held = await uow.session.fetchval(
                    "SELECT COUNT(*) FROM lanes l WHERE l.owner LIKE $1 AND EXISTS (SELECT 1"
                    " FROM inbox i WHERE i.lane = l.lane AND i.done_at IS NULL"
                    " AND i.parked_at IS NULL)",
                    f"%:{victim.pid}:%",
                )
            if not held:
                took = time.monotonic() - killed
                break
            await asyncio.sleep(0.02)
    finally:
        await db.close()
    await load
    return took


async def measure(
    replicas: int,
    *,
    users: int,
    per_user: int,
    latency: float,
    seed: int,
    postgres_url: str,
    redis_url: str,
    kill: bool = False,
) -> Run:
    emulator = BotAPIEmulator(token=TOKEN, latency=latency)
    await emulator.start()
    driver = Driver(emulator)
    ids = [1_000_000 + n for n in range(users)]
    for user in ids:
        emulator.add_user(user, f"User {user}")
    topology = f"webhook, {replicas} replica{'s' if replicas > 1 else ''}" if replicas else POLLING
    takeover = None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-replicas-") as folder:
            async with AsyncExitStack() as stack:
                database_url = await stack.enter_async_context(
                    scratch_schema(postgres_url, "replicas")
                )
                bots = await stack.enter_async_context(
                    processes(replicas, emulator, Path(folder), database_url, redis_url)
                )
                await _warm_up(driver, ids)
                cpu_before = sum(cpu_seconds(p.pid) for p in bots)
                began = emulator.clock()
                waits = await _closed_loop(driver, ids, per_user, seed)
                seconds = emulator.clock() - began
                cpu = sum(cpu_seconds(p.pid) for p in bots) - cpu_before
                if kill and len(bots) > 1:
                    takeover = await _takeover(driver, ids, bots[-1], database_url)
            errors = errors_logged(Path(folder))
    finally:
        await emulator.stop()
    return Run(topology, round(latency * 1000), len(waits), seconds, waits, cpu, errors, takeover)


async def run(
    *,
    users: int = 200,
    per_user: int = 10,
    latencies: tuple[float, ...] = (0.0, 0.03),
    repeats: int = 3,
    postgres_url: str,
    redis_url: str,
    topologies: tuple[int, ...] = (0, 1, 2, 3),
) -> list[Run]:
    results = []
    for latency in latencies:
        for repeat in range(repeats):
            for replicas in topologies:  # interleaved: the same noise for every topology
                results.append(
                    await measure(
                        replicas,
                        users=users,
                        per_user=per_user,
                        latency=latency,
                        seed=repeat,
                        postgres_url=postgres_url,
                        redis_url=redis_url,
                        kill=replicas == max(topologies),
                    )
                )
    return results


def report(results: list[Run]) -> str:
    lines = [
        "Replicas on PostgreSQL and Redis (processes of their own; median of runs; a wait is"
        " from the update's arrival to the answer; CPU of all the bot's processes per update):"
    ]
    for latency in sorted({r.latency_ms for r in results}):
        runs = [r for r in results if r.latency_ms == latency]
        lines.append(f"  Bot API round trip {latency} ms ({runs[0].updates} updates a run):")
        base = statistics.median(r.rate for r in runs if r.topology == POLLING)
        for topology in dict.fromkeys(r.topology for r in runs):
            group = [r for r in runs if r.topology == topology]
            rate = statistics.median(r.rate for r in group)
            p50 = statistics.median(r.quantile(0.5) for r in group) * 1000
            p99 = statistics.median(r.quantile(0.99) for r in group) * 1000
            cpu = statistics.median(r.cpu / r.updates for r in group) * 1000
            errors = sum(r.errors for r in group)
            lines.append(
                f"    {topology:<22} {rate:7.1f} updates/s   x{rate / base:5.2f}"
                f"   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   CPU {cpu:5.2f} ms/update"
                + (f"   ({errors} errors logged!)" if errors else "")
            )
            takeovers = [r.takeover for r in group if r.takeover is not None]
            if takeovers:
                lines.append(
                    f"      one replica SIGKILLed under load: its lanes taken over after"
                    f" {statistics.median(takeovers):.2f} s (median; LANE_LEASE 5 s)"
                )
    return "\n".join(lines)
