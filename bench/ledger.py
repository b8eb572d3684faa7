"""Ledger payments per second: Giftwallet's services against the bare driver, same statements.

A payment is what a certificate purchase posts: one entry with an idempotency key, moving money
from ``telegram_payments`` to a user's balance (two conditional updates, two postings), in one
transaction. "Giftwallet services" goes through LedgerService and the unit of work; the baseline,
the bare driver, sends the same SQL straight through sqlite3 (synchronously, as fast as SQLite
goes from Python) or asyncpg, in the same run, on the same database. For SQLite, aiosqlite with
one thread hop per statement (how the ledger used to run) is printed as well.

Each is measured on an empty database and on one seeded with ``users`` users and ``postings``
postings, where a missing index would show. The query plans of the hot statements at that size
are printed too.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from bot.domain.clock import SystemClock
from bot.domain.money import Money
from bot.services.ledger import TELEGRAM_PAYMENTS, Account, LedgerService
from bot.storage.database import Database, open_database
from bot.storage.repositories.ledger import SYSTEM_ACCOUNT_KINDS, USER_ACCOUNT_KINDS

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# sqlite3 (synchronous, no event loop) on SQLite, asyncpg on PostgreSQL.
BASELINE = "bare driver (baseline)"
SAMPLED = 300  # users whose balance and history page are read, for the percentiles
_serial = itertools.count()


@dataclass(frozen=True)
class Plan:
    backend: str
    size: str
    query: str
    plan: list[str]
    milliseconds: float


@dataclass(frozen=True)
class Result:
    backend: str
    size: str
    runner: str
    payments: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.payments / self.seconds


# --- seeding ------------------------------------------------------------------------------


def _seed_rows(users: int, postings: int) -> dict[str, list[tuple[Any, ...]]]:
    """Users with three accounts each, and card payments spread over them (2 postings each)."""
    first_user = 1_000_000
    rows: dict[str, list[tuple[Any, ...]]] = {"users": [], "accounts": []}
    account_id = itertools.count(1)
    system = {kind: next(account_id) for kind in SYSTEM_ACCOUNT_KINDS}
    balance_of: dict[int, int] = {}
    user_balance_account = {}
    for n in range(users):
        user = first_user + n
        rows["users"].append((user, f"u{n}", "en", None, True, NOW, NOW))
        for kind in USER_ACCOUNT_KINDS:
            acc = next(account_id)
            if kind == "balance":
                user_balance_account[user] = acc
            balance_of[acc] = 0
    rows["entries"], rows["postings"] = [], []
    source = system["telegram_payments"]
    balance_of[source] = 0
    posting_id = itertools.count(1)
    for entry in range(1, postings // 2 + 1):
        user = first_user + entry % max(users, 1)
        target = user_balance_account[user]
        amount = 500 + entry % 5000
        rows["entries"].append((entry, f"seed:{entry}", "seed", user, "seed", NOW))
        balance_of[source] -= amount
        rows["postings"].append((next(posting_id), entry, source, -amount, balance_of[source]))
        balance_of[target] += amount
        rows["postings"].append((next(posting_id), entry, target, amount, balance_of[target]))
    ids = itertools.count(1)
    for kind in SYSTEM_ACCOUNT_KINDS:
        acc = next(ids)
        rows["accounts"].append((acc, None, kind, "USD", balance_of.get(acc, 0), True))
    for n in range(users):
        for kind in USER_ACCOUNT_KINDS:
            acc = next(ids)
            rows["accounts"].append((acc, first_user + n, kind, "USD", balance_of[acc], False))
    return rows


COLUMNS = {
    "users": (
        "id",
        "first_name",
        "client_language",
        "language",
        "reachable",
        "created_at",
        "updated_at",
    ),
    "accounts": ("id", "user_id", "kind", "currency", "balance", "allow_negative"),
    "entries": ("id", "idempotency_key", "kind", "user_id", "fingerprint", "created_at"),
    "postings": ("id", "entry_id", "account_id", "amount", "balance_after"),
}


def _seed_sqlite(path: Path, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    def text(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v.isoformat() if isinstance(v, datetime) else v for v in row)

    with sqlite3.connect(path) as conn:
        for table, columns in COLUMNS.items():
            marks = ", ".join("?" for _ in columns)
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                (text(r) for r in rows[table]),
            )
        conn.execute("ANALYZE")


async def _seed_postgres(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table, columns in COLUMNS.items():
            await conn.copy_records_to_table(table, records=rows[table], columns=list(columns))
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
                if table != "users"
                else "SELECT 1"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


# --- the two ways of paying -----------------------------------------------------------------


async def _services(db: Database, users: list[int], count: int) -> float:
    ledger = LedgerService(db, "USD", SystemClock())
    began = time.perf_counter()
    for n in range(count):
        async with db.unit_of_work() as uow:
            await ledger.transfer(
                uow,
                f"tg-charge:s{next(_serial)}",
                "certificate_purchase",
                TELEGRAM_PAYMENTS,
                Account.balance(users[n % len(users)]),
                Money(100 + n % 900, "USD"),
                user_id=users[n % len(users)],
            )
    return time.perf_counter() - began


ACCOUNT_IDS = (
    "SELECT id, kind, user_id FROM accounts"
    " WHERE (kind = {p1} AND user_id IS NULL) OR (kind = {p2} AND user_id = {p3})"
)
INSERT_ENTRY = (
    "INSERT INTO entries (idempotency_key, kind, user_id, fingerprint, created_at)"
    " VALUES ({p1}, {p2}, {p3}, {p4}, {p5}) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
UPDATE = (
    "UPDATE accounts SET balance = balance + {p1}"
    " WHERE id = {p2} AND (allow_negative OR balance + {p1} >= 0) RETURNING balance"
)
POSTING = (
    "INSERT INTO postings (entry_id, account_id, amount, balance_after)"
    " VALUES ({p1}, {p2}, {p3}, {p4})"
)


def _sql(template: str, mark: Callable[[int], str]) -> str:
    return template.format(**{f"p{i}": mark(i) for i in range(1, 6)})


def _fingerprint(user: int, amount: int) -> str:
    return hashlib.sha256(f"certificate_purchase|{user}|{amount}".encode()).hexdigest()


async def _bare_aiosqlite(path: Path, users: list[int], count: int) -> float:
    q = {
        name: _sql(t, lambda i: f"?{i}")
        for name, t in (
            ("ids", ACCOUNT_IDS),
            ("entry", INSERT_ENTRY),
            ("update", UPDATE),
            ("post", POSTING),
        )
    }
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.executescript("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    try:
        began = time.perf_counter()
        for n in range(count):
            user, amount = users[n % len(users)], 100 + n % 900
            await conn.execute_fetchall("BEGIN IMMEDIATE")
            ids = {
                (r[1], r[2]): r[0]
                for r in await conn.execute_fetchall(
                    q["ids"], ("telegram_payments", "balance", user)
                )
            }
            entry = (
                await conn.execute_fetchall(
                    q["entry"],
                    (
                        f"tg-charge:r{next(_serial)}",
                        "certificate_purchase",
                        user,
                        _fingerprint(user, amount),
                        datetime.now(UTC).isoformat(),
                    ),
                )
            )[0][0]
            postings = []
            for account, delta in (
                (ids[("balance", user)], amount),
                (ids[("telegram_payments", None)], -amount),
            ):
                after = (await conn.execute_fetchall(q["update"], (delta, account)))[0][0]
                postings.append((entry, account, delta, after))
            await conn.executemany(q["post"], postings)
            await conn.execute_fetchall("COMMIT")
        return time.perf_counter() - began
    finally:
        await conn.close()


def _sync_sqlite3(path: Path, users: list[int], count: int) -> float:
    q = {
        name: _sql(t, lambda i: f"?{i}")
        for name, t in (
            ("ids", ACCOUNT_IDS),
            ("entry", INSERT_ENTRY),
            ("update", UPDATE),
            ("post", POSTING),
        )
    }
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    try:
        began = time.perf_counter()
        for n in range(count):
            user, amount = users[n % len(users)], 100 + n % 900
            conn.execute("BEGIN IMMEDIATE")
            ids = {
                (r[1], r[2]): r[0]
                for r in conn.execute(q["ids"], ("telegram_payments", "balance", user))
            }
            entry = conn.execute(
                q["entry"],
                (
                    f"tg-charge:y{next(_serial)}",
                    "certificate_purchase",
                    user,
                    _fingerprint(user, amount),
                    datetime.now(UTC).isoformat(),
                ),
            ).fetchone()[0]
            postings = []
            for account, delta in (
                (ids[("balance", user)], amount),
                (ids[("telegram_payments", None)], -amount),
            ):
                after = conn.execute(q["update"], (delta, account)).fetchone()[0]
                postings.append((entry, account, delta, after))
            conn.executemany(q["post"], postings)
            conn.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        conn.close()


async def _bare_asyncpg(url: str, users: list[int], count: int) -> float:
    q = {
        name: _sql(t, lambda i: f"${i}")
        for name, t in (
            ("ids", ACCOUNT_IDS),
            ("entry", INSERT_ENTRY),
            ("update", UPDATE),
            ("post", POSTING),
        )
    }
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        began = time.perf_counter()
        for n in range(count):
            user, amount = users[n % len(users)], 100 + n % 900
            async with pool.acquire() as conn, conn.transaction():
                ids = {
                    (r[1], r[2]): r[0]
                    for r in await conn.fetch(q["ids"], "telegram_payments", "balance", user)
                }
                entry = await conn.fetchval(
                    q["entry"],
                    f"tg-charge:r{next(_serial)}",
                    "certificate_purchase",
                    user,
                    _fingerprint(user, amount),
                    datetime.now(UTC),
                )
                postings = []
                for account, delta in (
                    (ids[("balance", user)], amount),
                    (ids[("telegram_payments", None)], -amount),
                ):
                    after = await conn.fetchval(q["update"], delta, account)
                    postings.append((entry, account, delta, after))
                await conn.executemany(q["post"], postings)
        return time.perf_counter() - began
    finally:
        await pool.close()


# --- one database, prepared once per size ---------------------------------------------------


async def _prepare(backend: str, url: str, users: int, postings: int) -> list[int]:
    db = open_database(url)
    await db.connect()
    await db.migrate()
    await db.close()
    rows = _seed_rows(max(users, 50), postings)
    if backend == "sqlite":
        await asyncio.to_thread(_seed_sqlite, Path(url.removeprefix("sqlite:///")), rows)
    else:
        await _seed_postgres(url, rows)
    return [row[0] for row in rows["users"]]


async def _explain(
    db: Database, backend: str, size: str, name: str, sql: str, args: tuple[Any, ...]
) -> Plan:
    async with db.read() as uow:
        prefix = "EXPLAIN QUERY PLAN" if backend == "sqlite" else "EXPLAIN ANALYZE"
        rows = await uow.session.fetch(f"{prefix} {sql}", *args)
        began = time.perf_counter()
        await uow.session.fetch(sql, *args)
        spent = (time.perf_counter() - began) * 1000
    lines = [str(row[3] if backend == "sqlite" else row[0]) for row in rows]
    return Plan(backend, size, name, lines, spent)


async def _measure(
    backend: str,
    url: str,
    size: str,
    users: list[int],
    payments: int,
    repeats: int,
    plans: list[Plan],
) -> list[Result]:
    db = open_database(url)
    await db.connect()
    path = Path(url.removeprefix("sqlite:///"))
    runners: dict[str, Callable[[], Awaitable[float]]] = {}
    if backend == "sqlite":
        runners[BASELINE] = lambda: asyncio.to_thread(_sync_sqlite3, path, users, payments)
        runners["aiosqlite, a hop per statement"] = lambda: _bare_aiosqlite(path, users, payments)
    else:
        runners[BASELINE] = lambda: _bare_asyncpg(url, users, payments)
    runners["Giftwallet services"] = lambda: _services(db, users, payments)
    user = users[len(users) // 2]
    hot = {
        "balance": ("SELECT kind, balance FROM accounts WHERE user_id = $1", (user,)),
        "payment: account ids": (
            _sql(ACCOUNT_IDS, lambda i: f"${i}"),
            ("telegram_payments", "balance", user),
        ),
        "payment: replayed key": (
            "SELECT id, fingerprint FROM entries WHERE idempotency_key = $1",
            ("seed:77",),
        ),
    }
    for name, (sql, args) in hot.items():
        plans.append(await _explain(db, backend, size, name, sql, args))
    ledger = LedgerService(db, "USD", SystemClock())
    for page, before in (("history, first page", None), ("history, an older page", 1000)):
        began = time.perf_counter()
        await ledger.history(user, limit=20, before_entry=before)
        plans.append(Plan(backend, size, page, [], (time.perf_counter() - began) * 1000))
    # The user's two reads at scale, through the services: a balance check and a history page,
    # for SAMPLED random users; p99 of each.
    chance = random.Random(7)
    sample = [chance.choice(users) for _ in range(SAMPLED)]
    for name, read in (
        ("balance check", ledger.balances),
        ("history page", lambda u: ledger.history(u, limit=20)),
    ):
        spent = []
        for sampled in sample:
            began = time.perf_counter()
            await read(sampled)
            spent.append((time.perf_counter() - began) * 1000)
        spent.sort()
        p50, p99 = spent[len(spent) // 2], spent[min(len(spent) - 1, round(0.99 * len(spent)))]
        plans.append(Plan(backend, size, f"{name} p50 {p50:.2f} ms, p99", [], p99))
    times: dict[str, list[float]] = {name: [] for name in runners}
    try:
        for _ in range(repeats):  # interleaved, so a noisy moment hits every runner alike
            for name, runner in runners.items():
                times[name].append(await runner())
    finally:
        await db.close()
    return [
        Result(backend, size, name, payments, statistics.median(spent))
        for name, spent in times.items()
    ]


async def run(
    *, users: int, postings: int, payments: int, repeats: int, postgres_url: str | None
) -> tuple[list[Result], list[Plan]]:
    results: list[Result] = []
    plans: list[Plan] = []
    backends = ["sqlite"] + (["postgresql"] if postgres_url else [])
    for backend in backends:
        for size, (n_users, n_postings) in (
            ("empty", (0, 0)),
            (f"{users:,} users, {postings:,} postings", (users, postings)),
        ):
            with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
                schema = None
                if backend == "sqlite":
                    url = f"sqlite:///{Path(folder) / 'ledger.sqlite3'}"
                else:
                    assert postgres_url is not None
                    schema = f"bench_{os.getpid()}_{n_users}"
                    admin = await asyncpg.connect(postgres_url)
                    await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                    await admin.execute(f'CREATE SCHEMA "{schema}"')
                    await admin.close()
                    sep = "&" if "?" in postgres_url else "?"
                    url = f"{postgres_url}{sep}search_path={schema}"
                try:
                    user_ids = await _prepare(backend, url, n_users, n_postings)
                    results += await _measure(
                        backend, url, size, user_ids, payments, repeats, plans
                    )
                finally:
                    if schema is not None:
                        admin = await asyncpg.connect(postgres_url)
                        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                        await admin.close()
    return results, plans


def report(results: list[Result], plans: list[Plan]) -> str:
    lines = []
    for (backend, size), group in itertools.groupby(results, key=lambda r: (r.backend, r.size)):
        rows = list(group)
        baseline = next(r for r in rows if r.runner == BASELINE).rate
        lines.append(f"Ledger payments on {backend}, {size} ({rows[0].payments} each, median):")
        for r in rows:
            lines.append(f"  {r.runner:<32} {r.rate:8.0f} payments/s   x{r.rate / baseline:5.2f}")
    lines.append("Hot queries (plan, and one run's time):")
    for plan in plans:
        if plan.size.startswith("empty"):
            continue
        lines.append(f"  {plan.backend}, {plan.query}: {plan.milliseconds:.2f} ms")
        lines += [f"      {line}" for line in plan.plan if "Planning" not in line]
    return "\n".join(lines)
