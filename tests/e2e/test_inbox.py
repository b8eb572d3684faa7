"""The durable inbox end to end, on SQLite and PostgreSQL: poison updates are parked while the
updates behind them are answered, faults are retried, parked money reaches the operators."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import BotAPIEmulator
from bot.storage.errors import StorageUnavailable
from bot.storage.repositories.fsm import FSMRepository
from bot.storage.repositories.users import UserRepository
from tests.conftest import TOKEN, RunningBot, query
from tests.e2e.test_skeleton import say

ALICE, BORIS = 1001, 1002
HERE = str(Path(__file__).resolve().parent)
OPERATORS = -100777


class LogWaiter(logging.Handler):
    """Sets an event when a log line containing ``marker`` is written: no sleeping in tests."""

    def __init__(self, marker: str) -> None:
        super().__init__(logging.DEBUG)
        self.marker = marker
        self.seen = asyncio.Event()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if self.marker in line:
            self.lines.append(line)
            self.seen.set()


@contextmanager
def waiting_for(marker: str) -> Iterator[LogWaiter]:
    waiter = LogWaiter(marker)
    root = logging.getLogger()
    root.addHandler(waiter)
    old_level = root.level
    root.setLevel(min(old_level, logging.INFO) if old_level else logging.INFO)
    try:
        yield waiter
    finally:
        root.removeHandler(waiter)
        root.setLevel(old_level)


async def quick_bot(start_bot: Callable[..., Any], **overrides: Any) -> RunningBot:
    """The real bot, with three attempts and short pauses between them."""
    running: RunningBot = await start_bot(inbox_max_attempts=3, **overrides)
    running.app.inbox.first_backoff = 0.05
    return running


def _private(user_id: int, name: str = "Alice") -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": name}


def _sender(user_id: int, name: str = "Alice") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "en"}


POISON = {
    "callback_query without from": {
        "callback_query": {"id": "77", "chat_instance": "1", "data": "m:balance"}
    },
    "message without chat": {
        "message": {"message_id": 5, "date": 0, "text": "hi", "from": _sender(ALICE)}
    },
    "an origin type aiogram does not know": {
        "message": {
            "message_id": 6,
            "date": 0,
            "text": "fwd",
            "chat": _private(ALICE),
            "from": _sender(ALICE),
            "forward_origin": {"type": "future_origin_kind", "date": 0},
        }
    },
}


@pytest.mark.parametrize("shape", list(POISON))
async def test_a_poison_update_is_parked_and_the_updates_behind_it_are_answered(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any], shape: str
) -> None:
    running = await quick_bot(start_bot)
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BORIS, "Boris")
    mark = emulator.call_count()
    with waiting_for("event=inbox_parked") as parked:
        poison = await emulator.send_raw_update(POISON[shape])
        # Behind it: the same user, and somebody else.
        await emulator.send_text(ALICE, "/balance")
        boris = await say(emulator, BORIS, "/balance")
        assert "Certificates" in boris.params["text"]
        await emulator.wait_for_call(
            "sendMessage",
            lambda c: int(c.params["chat_id"]) == ALICE and "Certificates" in c.params["text"],
            after=mark,
            timeout=10,
        )
        await asyncio.wait_for(parked.seen.wait(), timeout=10)
        await running.settled(emulator)
    rows = await query(
        running.app.db,
        "SELECT attempts, last_error FROM inbox WHERE update_id = $1 AND parked_at IS NOT NULL",
        poison["update_id"],
    )
    assert rows and rows[0][0] == 3 and rows[0][1].startswith("unparseable")
    # Logged once, with ids only: never the text or a name.
    assert len(parked.lines) == 1 and str(poison["update_id"]) in parked.lines[0]
    assert "Alice" not in parked.lines[0] and "hi" not in parked.lines[0].split()
    # The poison itself got at most an apology in the sender's own chat, never an answer.
    others = [
        c.params["text"]
        for c in (c for c in emulator.calls("sendMessage") if c.index >= mark)
        if "Certificates" not in c.params["text"]
    ]
    assert all("Nothing was charged" in text for text in others) and len(others) <= 1


async def test_an_html_error_page_from_a_proxy_is_survived(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    emulator.fail_next_with_page("getUpdates", status=502, count=2)
    with waiting_for("event=get_updates_failed") as failed:
        # A long poll already in flight may deliver this one before the failures hit.
        await say(emulator, ALICE, "/start")
        await asyncio.wait_for(failed.seen.wait(), timeout=10)
        reply = await say(emulator, ALICE, "/balance")
    assert "Certificates" in reply.params["text"]
    assert "ClientDecodeError" in failed.lines[0]
    assert bot.task is not None and not bot.task.done()


async def test_a_handler_failing_twice_then_succeeding_answers_once(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await quick_bot(start_bot)
    emulator.add_user(ALICE, "Alice")
    real = running.app.services.cashback.wallet
    failures = [StorageUnavailable("database is locked")] * 2

    async def flaky(user_id: int) -> Any:
        if failures:
            raise failures.pop()
        return await real(user_id)

    monkeypatch.setattr(running.app.services.cashback, "wallet", flaky)
    mark = emulator.call_count()
    reply = await say(emulator, ALICE, "/balance")
    await running.settled(emulator)
    assert "Certificates" in reply.params["text"]
    sent = [c for c in emulator.calls("sendMessage") if c.index >= mark]
    assert len(sent) == 1  # no "something went wrong" before the answer
    rows = await query(running.app.db, "SELECT attempts, done_at FROM inbox")
    assert len(rows) == 1 and rows[0][0] == 2 and rows[0][1] is not None


async def test_a_storage_fault_during_handling_is_retried_once_it_clears(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    """A real fault through the real driver: the accounts table is away for a moment."""
    running = await start_bot()
    running.app.inbox.first_backoff = 0.2
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    db = running.app.db
    async with db.unit_of_work() as uow:
        await uow.session.execute("ALTER TABLE accounts RENAME TO accounts_away")
    with waiting_for("event=inbox_retry") as retried:
        mark = emulator.call_count()
        await emulator.send_text(ALICE, "/balance")
        await asyncio.wait_for(retried.seen.wait(), timeout=10)
    assert not [c for c in emulator.calls("sendMessage") if c.index >= mark]
    async with db.unit_of_work() as uow:
        await uow.session.execute("ALTER TABLE accounts_away RENAME TO accounts")
    reply = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == ALICE, after=mark, timeout=10
    )
    assert "Certificates" in reply.params["text"]
    assert "StorageError" in retried.lines[0] or "Storage" in retried.lines[0]


async def test_a_parked_payment_alerts_the_operators_and_reassures_the_payer(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await quick_bot(start_bot, support_chat_id=OPERATORS)
    emulator.add_group_chat(OPERATORS, "Operators", members=[900])
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise StorageUnavailable("disk I/O error")

    monkeypatch.setattr(running.app.services.users, "touch", down)
    mark = emulator.call_count()
    payment = await emulator.send_raw_update(
        {
            "message": {
                "message_id": 4242,
                "date": 0,
                "chat": _private(ALICE),
                "from": _sender(ALICE),
                "successful_payment": {
                    "currency": "XTR",
                    "total_amount": 250,
                    "invoice_payload": "p-1",
                    "telegram_payment_charge_id": "stx-parked-1",
                    "provider_payment_charge_id": "1001_9",
                },
            }
        }
    )
    alert = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == OPERATORS, after=mark, timeout=10
    )
    assert (
        "stx-parked-1" in alert.params["text"]
        and str(payment["update_id"]) in (alert.params["text"])
    )
    told = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == ALICE, after=mark, timeout=10
    )
    assert "payment was received" in told.params["text"]
    assert "nothing was charged" not in told.params["text"].lower()

    # An operator puts it back once the fault is fixed; the bot takes it up again.
    monkeypatch.undo()
    code, output = await _cli("inbox", database_url=running.app.settings.database)
    assert code == 0 and str(payment["update_id"]) in output and "1 parked" in output
    code, output = await _cli(
        "inbox", "--retry", str(payment["update_id"]), database_url=running.app.settings.database
    )
    assert code == 0, output
    await running.app.inbox.take_over()  # or the scan a second later
    await asyncio.wait_for(running.app.inbox.wait_idle(), timeout=10)
    await running.settled(emulator)
    rows = await query(
        running.app.db, "SELECT done_at FROM inbox WHERE update_id = $1", payment["update_id"]
    )
    assert rows[0][0] is not None


async def _cli(*args: str, database_url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={"PATH": "/usr/bin:/bin", "BOT_TOKEN": TOKEN, "DATABASE_URL": database_url},
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()


async def test_updates_in_groups_get_no_replies_and_odd_senders_no_errors(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BORIS, "Boris")
    group = {"id": -1005, "type": "group", "title": "Friends"}
    mark = emulator.call_count()
    await emulator.send_raw_update(
        {
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": group,
                "from": _sender(ALICE),
                "text": "x" * 5000,
            }
        }
    )
    await emulator.send_raw_update(
        {
            "message": {
                "message_id": 2,
                "date": 0,
                "chat": group,
                "from": _sender(ALICE),
                "text": "/balance",
                "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
            }
        }
    )
    # A private message without a sender, and a name that is not valid UTF-16.
    await emulator.send_raw_update(
        {"message": {"message_id": 3, "date": 0, "chat": _private(ALICE), "text": "hello"}}
    )
    broken = {**_sender(BORIS, "Bo\ud800ris"), "first_name": "Bo\ud800ris"}
    reply_mark = emulator.call_count()
    await emulator.send_raw_update(
        {
            "message": {
                "message_id": 4,
                "date": 0,
                "chat": _private(BORIS, "Boris"),
                "from": broken,
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            }
        }
    )
    greeting = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == BORIS, after=reply_mark
    )
    await bot.settled(emulator)
    assert "Bo" in greeting.params["text"]
    spoken_to = {
        int(c.params["chat_id"])
        for c in (c for c in emulator.calls("sendMessage") if c.index >= mark)
    }
    assert spoken_to == {BORIS}
    problems = await query(bot.app.db, "SELECT COUNT(*) FROM inbox WHERE parked_at IS NOT NULL")
    assert problems == [(0,)]


async def test_a_burst_of_first_starts_registers_each_batch_at_once(
    emulator: BotAPIEmulator, bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New senders are registered with the batch that brought them, in one transaction, so
    their handlers find them and write nothing more for it, and read no conversation state:
    a user stored a moment ago has none."""
    newcomers = [3000 + n for n in range(25)]
    users = bot.app.services.users
    registered: list[int] = []
    written_one_by_one: list[int] = []
    states_read: list[str] = []
    real_register, real_upsert = users.register, UserRepository.upsert
    real_row = FSMRepository.row

    async def register(contacts: Any) -> list[int]:
        registered.append(len(contacts))
        return await real_register(contacts)

    async def upsert(self: UserRepository, user_id: int, *args: Any) -> Any:
        written_one_by_one.append(user_id)
        return await real_upsert(self, user_id, *args)

    async def row(self: FSMRepository, key: str) -> Any:
        states_read.append(key)
        return await real_row(self, key)

    monkeypatch.setattr(users, "register", register)
    monkeypatch.setattr(UserRepository, "upsert", upsert)
    monkeypatch.setattr(FSMRepository, "row", row)
    mark = emulator.call_count()
    for user in newcomers:
        emulator.add_user(user, f"New {user}", language_code="ru")
        await emulator.send_text(user, "/start")
    for user in newcomers:
        await emulator.wait_for_call(
            "sendMessage", lambda c, u=user: int(c.params["chat_id"]) == u, after=mark
        )
    assert sum(registered) == len(newcomers) and len(registered) < len(newcomers)
    assert written_one_by_one == []
    assert states_read == []
    rows = await query(bot.app.db, "SELECT COUNT(*) FROM accounts WHERE user_id >= 3000")
    assert rows[0][0] == 3 * len(newcomers)
    assert await bot.app.services.ledger.check_invariants() == []
