"""copy-db: a SQLite deployment moves to PostgreSQL with every row, balance and invariant."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.domain.models import PendingOperation
from bot.domain.money import Money
from bot.services.ledger import ORDERS, TELEGRAM_PAYMENTS, Account
from bot.storage.copy import CopyRefused, copy_database
from bot.storage.fsm import DatabaseStorage
from bot.storage.postgres import PostgresDatabase
from bot.storage.sqlite import SQLiteDatabase
from tests.databases import ENABLE_HINT, TEST_DATABASE_URL, create_schema, drop_schema
from tests.unit.ledger_support import LedgerWorld

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason=f"PostgreSQL tests skipped: {ENABLE_HINT}"
)
USERS = (101, 102, 103)
KEY = StorageKey(bot_id=1, chat_id=101, user_id=101)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[LedgerWorld]:
    """A SQLite deployment with users, payments, an order and a half-done conversation."""
    world = await LedgerWorld(f"sqlite:///{tmp_path / 'giftwallet.sqlite3'}").open(*USERS)
    for n, user in enumerate(USERS):
        await world.transfer(
            f"tg-charge:{n}",
            "certificate_purchase",
            TELEGRAM_PAYMENTS,
            Account.balance(user),
            usd(5000 + n),
            user_id=user,
        )
    await world.transfer(
        "order-pay:1", "order_payment", Account.balance(101), ORDERS, usd(1234), user_id=101
    )
    await DatabaseStorage(world.db).set_state(KEY, "Setup:password")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    async with world.db.unit_of_work() as uow:
        repo = uow.certificates
        purchase = await repo.add_purchase(
            public_id="p-1",
            user_id=102,
            purpose="gift",
            amount=Money(2000, "USD"),
            invoice_currency="XTR",
            invoice_amount=1000,
            note="Happy birthday",
            now=now,
        )
        await repo.mark_paid(purchase.id, "stx-1", "102_1", now)
        await repo.add_gift(
            code="abcdefghijklmnop",
            giver_id=102,
            amount=Money(2000, "USD"),
            note=None,
            purchase_id=purchase.id,
            now=now,
            expires_at=now + timedelta(days=30),
        )
        await repo.add_certificate(103, Money(5002, "USD"), "bought", now)
        await repo.save_code_failures(101, 3, now, None)
        await uow.cashback.add(
            user_id=102,
            source="certificate",
            purchase_id=purchase.id,
            amount=Money(20, "USD"),
            status="available",
            now=now,
        )
        await uow.outbox.add(-100, "operators", "ops-order-card", {"order": 1}, now, card="order:1")
        await uow.outbox.set_muted(101, "gift_expired", True)
        # A payment waiting in the Mini App, and a phone enrolled for biometrics.
        await uow.security.add_operation(
            PendingOperation(
                "op-1", 101, "order_pay", usd(500), {"order": 1}, now, now + timedelta(minutes=10)
            )
        )
        await uow.security.add_nonce("n" * 64, 101, "op-1", now + timedelta(minutes=2))
        await uow.security.enroll_device(101, "phone", "t" * 64, now)
    async with world.db.unit_of_work() as uow:  # sent: its message is remembered
        (notice,) = await uow.outbox.claim(now, now, 1, now)
        await uow.outbox.mark_sent([notice.id], now, message_id=77)
    try:
        yield world
    finally:
        await world.close()


@pytest.fixture
async def target_url() -> AsyncIterator[str]:
    schema, url = await create_schema()
    try:
        yield url
    finally:
        await drop_schema(schema)


async def test_copy_keeps_every_row_balance_and_history(
    source: LedgerWorld, target_url: str
) -> None:
    target = LedgerWorld(target_url)
    await target.db.connect()
    try:
        await target.db.migrate()
        assert isinstance(source.db, SQLiteDatabase) and isinstance(target.db, PostgresDatabase)
        counts = await copy_database(source.db, target.db)
        assert {c.table: (c.source, c.target) for c in counts} == {
            "users": (3, 3),
            "accounts": (14, 14),  # 3 users x 3, and 5 system accounts
            "entries": (4, 4),
            "postings": (8, 8),
            "fsm_state": (1, 1),
            "inbox": (0, 0),
            "security": (0, 0),
            "pending_operations": (1, 1),
            "security_audit": (0, 0),
            "cards": (0, 0),
            "support_tickets": (0, 0),
            "support_messages": (0, 0),
            "purchases": (1, 1),
            "gifts": (1, 1),
            "certificates": (1, 1),
            "gift_code_failures": (1, 1),
            "orders": (0, 0),
            "order_events": (0, 0),
            "order_audit": (0, 0),
            "product_stock": (0, 0),
            "cashback_accruals": (1, 1),
            "withdrawals": (0, 0),
            "outbox": (1, 1),
            "notice_muted": (1, 1),
            "chat_messages": (1, 1),
            "returned_charges": (0, 0),
            "app_nonces": (1, 1),
            "biometric_devices": (1, 1),
        }
        assert await target.ledger.check_invariants() == []
        for user in USERS:
            assert await target.ledger.balances(user) == await source.ledger.balances(user)
            assert await target.ledger.history(user) == await source.ledger.history(user)
            assert await target.users.get(user) == await source.users.get(user)
        assert await target.ledger.journal() == await source.ledger.journal()
        assert await DatabaseStorage(target.db).get_state(KEY) == "Setup:password"

        # Identity sequences continue after the copied ids: new rows do not collide.
        await target.users.touch(104, "New", "en")
        result = await target.transfer(
            "tg-charge:new",
            "certificate_purchase",
            TELEGRAM_PAYMENTS,
            Account.balance(104),
            usd(700),
            user_id=104,
        )
        assert result.created and result.entry_id == 5
        assert await target.ledger.check_invariants() == []
    finally:
        await target.db.close()


async def test_a_non_empty_target_is_refused_and_left_alone(
    source: LedgerWorld, target_url: str
) -> None:
    target = LedgerWorld(target_url)
    await target.open(999)
    try:
        assert isinstance(source.db, SQLiteDatabase) and isinstance(target.db, PostgresDatabase)
        with pytest.raises(CopyRefused, match="not empty"):
            await copy_database(source.db, target.db)
        assert [row[0] for row in await target.fetch("SELECT id FROM users")] == [999]
    finally:
        await target.db.close()


async def test_the_command_copies_prints_counts_and_refuses_a_second_run(
    source: LedgerWorld, target_url: str, tmp_path: Path
) -> None:
    source_url = f"sqlite:///{tmp_path / 'giftwallet.sqlite3'}"
    env = {"PATH": os.environ.get("PATH", "")}  # no BOT_TOKEN: copy-db never talks to Telegram

    async def run() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "copy-db",
            "--from",
            source_url,
            "--to",
            target_url,
            env=env,
            cwd=str(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode()

    code, output = await run()
    assert code == 0, output
    assert "postings" in output and "8 rows" in output
    assert "ledger invariants on the target: ok" in output
    counted = [line for line in output.splitlines() if " rows -> " in line]
    assert len({line.index(" rows -> ") for line in counted}) == 1, counted  # one column
    code, output = await run()
    assert code == 1
    assert output.strip() == "error: copy-db refused: the target is not empty: users has rows"
