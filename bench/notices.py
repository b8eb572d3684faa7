"""Notices benchmark: an outbox of 10,000 notices for 2,000 users drained against the emulator.

The sender is the production one (``Application.notice_sender``, its own Bot session, the
configured ``NOTICE_RATE``). Notices are queued round robin, each user's spread over the queue,
so every notice is a message of its own and each chat's pace matters. Reported per backend:
- the achieved rate, messages a second from the first send to the last, against NOTICE_RATE;
- limit violations from the emulator's clock: seconds with more than NOTICE_RATE messages, and
  messages to a chat less than a second after its previous one (both must be zero);
- order and completeness: every notice once, in order per chat;
- peak memory: the growth of the process's RSS while draining, sampled every half second (the
  emulator shares the process and keeps every message it was sent, so this is an upper bound);
- database time per notice: time inside the sender's storage calls (claims, marks, user reads).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import resident_memory, scratch_schema
from bot.app import Application
from bot.config import Settings
from bot.domain.money import Money
from bot.emulator import BotAPIEmulator, Call
from bot.services.notices import WITHDRAWAL, write_notice

TOKEN = "123456:bench-token-for-the-local-emulator-only"
FIRST_USER = 500_000


@dataclass(frozen=True)
class Drained:
    backend: str
    latency: float
    rate: float
    notices: int
    messages: int
    seconds: float
    rate_violations: int
    chat_violations: int
    missing: int
    repeated: int
    out_of_order: int
    rss_before: int
    rss_peak: int
    db_seconds: float
    db_calls: int

    @property
    def achieved(self) -> float:
        return (self.messages - 1) / self.seconds if self.seconds > 0 else 0.0


class Timed:
    """A service whose coroutine methods add their time to a shared counter."""

    def __init__(self, inner: Any, counter: list[float]) -> None:
        self._inner = inner
        self._counter = counter

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not asyncio.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return await attribute(*args, **kwargs)
            finally:
                self._counter[0] += time.perf_counter() - began
                self._counter[1] += 1

        return timed


@asynccontextmanager
async def _database(backend: str, folder: Path, postgres_url: str | None) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'giftwallet.sqlite3'}"
        return
    assert postgres_url is not None
    async with scratch_schema(postgres_url, "notices") as url:
        yield url


def _sequences(call: Call) -> list[int]:
    """The numbers of the notices a message carries, from the card digits in its text."""
    return [
        int(line.split("•••• ")[1][:4])
        for line in str(call.params["text"]).splitlines()
        if "•••• " in line
    ]


async def drain(
    backend: str,
    *,
    notices: int,
    users: int,
    rate: float,
    latency: float,
    postgres_url: str | None = None,
) -> Drained:
    per_user = notices // users
    chats = [FIRST_USER + n for n in range(users)]
    emulator = BotAPIEmulator(token=TOKEN, latency=latency)
    await emulator.start()
    with tempfile.TemporaryDirectory(prefix="bench-notices-") as folder:
        async with _database(backend, Path(folder), postgres_url) as database_url:
            settings = Settings(
                bot_token=TOKEN,
                telegram_api_url=emulator.base_url,
                data_dir=Path(folder),
                database_url=database_url,
                notice_rate=rate,
                _env_file=None,  # type: ignore[call-arg]
            )
            app = Application(settings)
            await app.open_storage()
            try:
                for index, chat in enumerate(chats):
                    emulator.add_user(chat, f"User {chat}")
                    # Half the users read Russian: notices are rendered in each one's language.
                    await app.services.users.touch(
                        chat, f"User {chat}", "ru" if index % 2 else "en"
                    )
                now = datetime.now(UTC)
                async with app.db.unit_of_work() as uow:
                    for sequence, chat in itertools.product(range(1, per_user + 1), chats):
                        await write_notice(
                            uow,
                            chat,
                            WITHDRAWAL,
                            "notice-withdrawal-paid",
                            now,
                            amount=Money(100 * sequence, "USD"),
                            last4=f"{sequence:04d}",
                            reason="",
                        )
                counter = [0.0, 0]
                sender = app.notice_sender
                sender.notices = Timed(sender.notices, counter)  # type: ignore[assignment]
                sender.users = Timed(sender.users, counter)  # type: ignore[assignment]
                mark = emulator.call_count()
                rss_before = rss_peak = resident_memory()
                task = asyncio.create_task(sender.run())
                delivered, cursor, wanted = 0, mark, set(chats)
                while delivered < per_user * users:
                    await asyncio.sleep(0.5)
                    rss_peak = max(rss_peak, resident_memory())
                    if task.done():
                        task.result()
                    fresh = emulator.calls()[cursor:]
                    cursor += len(fresh)
                    delivered += sum(
                        len(_sequences(c))
                        for c in fresh
                        if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) in wanted
                    )
                await sender.stop(grace=10)
                task.cancel()
            finally:
                await app.shutdown()
    sends = _sends(emulator, mark, chats)
    await emulator.stop()
    return _judge(
        backend,
        sends,
        chats=chats,
        per_user=per_user,
        rate=rate,
        latency=latency,
        rss=(rss_before, rss_peak),
        db=counter,
    )


def _sends(emulator: BotAPIEmulator, mark: int, chats: list[int]) -> list[Call]:
    wanted = set(chats)
    return [
        c
        for c in emulator.calls("sendMessage")
        if c.index >= mark and c.ok and int(c.params["chat_id"]) in wanted
    ]


def _judge(
    backend: str,
    sends: list[Call],
    *,
    chats: list[int],
    per_user: int,
    rate: float,
    latency: float,
    rss: tuple[int, int],
    db: list[float],
) -> Drained:
    times = sorted(c.time for c in sends)
    window = int(rate)
    rate_violations = sum(1 for a, b in zip(times, times[window:], strict=False) if b - a < 1.0)
    by_chat: dict[int, list[Call]] = defaultdict(list)
    for call in sends:
        by_chat[int(call.params["chat_id"])].append(call)
    chat_violations = missing = repeated = out_of_order = 0
    for chat in chats:
        calls = sorted(by_chat[chat], key=lambda c: c.time)
        chat_violations += sum(1 for a, b in itertools.pairwise(calls) if b.time - a.time < 1.0)
        got = [number for call in calls for number in _sequences(call)]
        missing += len(set(range(1, per_user + 1)) - set(got))
        repeated += len(got) - len(set(got))
        out_of_order += sum(1 for a, b in itertools.pairwise(got) if b < a)
    return Drained(
        backend=backend,
        latency=latency,
        rate=rate,
        notices=per_user * len(chats),
        messages=len(sends),
        seconds=times[-1] - times[0] if len(times) > 1 else 0.0,
        rate_violations=rate_violations,
        chat_violations=chat_violations,
        missing=missing,
        repeated=repeated,
        out_of_order=out_of_order,
        rss_before=rss[0],
        rss_peak=rss[1],
        db_seconds=db[0],
        db_calls=int(db[1]),
    )


async def run(
    *,
    notices: int = 10_000,
    users: int = 2_000,
    rate: float = 25,
    latencies: tuple[float, ...] = (0.0,),
    postgres_url: str | None = None,
) -> list[Drained]:
    backends = ["sqlite"] + (["postgresql"] if postgres_url else [])
    return [
        await drain(
            backend,
            notices=notices,
            users=users,
            rate=rate,
            latency=latency,
            postgres_url=postgres_url,
        )
        for backend in backends
        for latency in latencies
    ]


def report(results: list[Drained]) -> str:
    if not results:
        return "Notices: nothing measured"
    first = results[0]
    lines = [
        f"Notices: {first.notices:,} queued round robin, drained by the production sender"
        f" at NOTICE_RATE {first.rate:g}/s",
    ]
    for r in results:
        lines.append(
            f"  {r.backend:<10} {r.latency * 1000:>3.0f} ms  {r.messages:>6,} messages in"
            f" {r.seconds:6.1f} s = {r.achieved:5.2f}/s  x {r.achieved / r.rate:.3f} of the rate"
        )
        lines.append(
            f"{'':17}violations: {r.rate_violations} over the rate, {r.chat_violations} in a chat"
            f" within 1 s; missing {r.missing}, repeated {r.repeated},"
            f" out of order {r.out_of_order}"
        )
        lines.append(
            f"{'':17}db {r.db_seconds / max(1, r.notices) * 1e6:,.0f} µs per notice"
            f" ({r.db_calls:,} storage calls); RSS {r.rss_before / 2**20:.0f} MiB before,"
            f" peak +{(r.rss_peak - r.rss_before) / 2**20:.1f} MiB while draining"
        )
    return "\n".join(lines)
