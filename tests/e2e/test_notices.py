"""The notices sender through the real bot, on both backends: the cashback notice in the user's
language with buttons that work, Telegram's 429 and 403, backoff to failure, and two senders on
one database sending every notice once."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.domain.clock import ShiftedClock
from bot.emulator import BotAPIEmulator, Call
from bot.i18n import I18n
from bot.runtime.notices import NoticeSender
from bot.services.ledger import LedgerService
from bot.services.notices import WITHDRAWAL, NoticeService, write_notice
from bot.services.users import UserService
from bot.storage.database import Database, open_database
from tests.conftest import TOKEN, RunningBot, query
from tests.e2e.test_cashback import ADMIN, ALICE, OPERATORS, press, usd, wallet
from tests.e2e.test_certificates import button_data, buy
from tests.e2e.test_security_dialogues import PASSWORD, secret
from tests.e2e.test_skeleton import answer_to, say


def to(chat_id: int) -> Any:
    return lambda c: int(c.params["chat_id"]) == chat_id


async def queue(db: Database, chat_id: int, marker: int, now: Any) -> None:
    """A withdrawal notice whose card digits tell it apart from every other."""
    async with db.unit_of_work() as uow:
        await write_notice(
            uow,
            chat_id,
            WITHDRAWAL,
            "notice-withdrawal-paid",
            now,
            amount=usd(100),
            last4=f"{marker:04d}",
            reason="",
        )


def markers(calls: list[Call]) -> Counter[str]:
    found: Counter[str] = Counter()
    for call in calls:
        for line in str(call.params["text"]).splitlines():
            if "•••• " in line:
                found[line.split("•••• ")[1][:4]] += 1
    return found


async def test_the_cashback_notice_speaks_the_users_language_and_its_buttons_work(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    clock = ShiftedClock()
    bot = await wallet(emulator, start_bot, clock=clock, cashback_hold="P14D")
    await buy(emulator, bot, ALICE, "$50")
    await bot.app.services.users.set_language(ALICE, "ru")
    services = bot.app.services
    order = await services.orders.create(ALICE, "Lamp", usd(2000), cashback_percent=Decimal(5))
    operation = await services.orders.prepare_payment(ALICE, order.id)
    await services.security.confirm_operation(ALICE, operation.id, PASSWORD)
    await services.orders.operator_action(ADMIN, order.id, "shipped")
    await services.orders.operator_action(ADMIN, order.id, "delivered")
    await services.orders.confirm_receipt(ALICE, order.id)
    await bot.notices_out()  # the buyer heard of shipping and delivery

    clock.advance(timedelta(days=14, minutes=1))
    mark = emulator.call_count()
    await bot.app.run_scheduled_jobs()  # the release writes the notice; the sender is woken
    notice = await emulator.wait_for_call(
        "sendMessage", lambda c: to(ALICE)(c) and "Кешбэк доступен" in c.params["text"], after=mark
    )
    ru = bot.app.i18n("ru")
    assert f"<b>+{ru.money(usd(100))}</b>" in notice.params["text"]
    assert f"Теперь доступно: <b>{ru.money(usd(150))}</b>" in notice.params["text"]
    titles = [b["text"] for row in notice.params["reply_markup"]["inline_keyboard"] for b in row]
    assert titles == ["💳 Вывести", "💰 На баланс", "💸 Открыть кешбэк"]
    await bot.app.notice_sender.drain()
    sent = await query(bot.app.db, "SELECT template, sent_at IS NOT NULL FROM outbox")
    assert ("notice-cashback-available", True) in sent

    mark = emulator.call_count()
    confirm = await press(emulator, notice, "На баланс")
    assert "Перевод <b>" in confirm.params["text"]
    await emulator.wait_for_call("sendMessage", to(ALICE), after=mark)
    moved = await secret(emulator, ALICE, PASSWORD)
    assert "переведено на баланс" in moved.params["text"]
    balances = await services.ledger.balances(ALICE)
    assert balances.balance == usd(3150) and balances.cashback_available == usd(0)


async def test_a_429_waits_retry_after_and_costs_no_attempt(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot: RunningBot = await start_bot(notice_max_attempts=1)
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    emulator.fail_next("sendMessage", retry_after=1)
    mark = emulator.call_count()
    await queue(bot.app.db, ALICE, 7, bot.app.clock.now())
    bot.app.notice_sender.wake()
    refused = await emulator.wait_for_call("sendMessage", to(ALICE), after=mark)
    assert refused.error_code == 429
    sent = await emulator.wait_for_call(
        "sendMessage", lambda c: to(ALICE)(c) and c.ok, after=mark, timeout=5
    )
    assert "•••• 0007" in sent.params["text"]
    assert sent.time - refused.time >= 1.0
    await bot.app.notice_sender.drain()
    # With one attempt allowed, a counted 429 would have failed the row instead.
    rows = await query(bot.app.db, "SELECT attempts, sent_at IS NOT NULL, failed_at FROM outbox")
    assert rows == [(1, True, None)]


async def test_a_blocked_user_keeps_their_notices_until_start(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot: RunningBot = await start_bot(notice_poll="0.1")
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    emulator.block(ALICE)
    mark = emulator.call_count()
    await queue(bot.app.db, ALICE, 1, bot.app.clock.now())
    bot.app.notice_sender.wake()
    refused = await emulator.wait_for_call("sendMessage", to(ALICE), after=mark)
    assert refused.error_code == 403
    await bot.app.notice_sender.drain()
    assert (await bot.app.services.users.get(ALICE)).reachable is False  # type: ignore[union-attr]
    await queue(bot.app.db, ALICE, 2, bot.app.clock.now())
    await asyncio.sleep(0.5)  # five polls: nothing goes to a chat that blocked the bot
    assert [c for c in emulator.calls("sendMessage") if to(ALICE)(c)][-1] is refused

    emulator.unblock(ALICE)
    mark = emulator.call_count()
    await emulator.send_text(ALICE, "/start")
    both = await emulator.wait_for_call(
        "sendMessage", lambda c: to(ALICE)(c) and "•••• 0001" in c.params["text"], after=mark
    )
    await bot.app.notice_sender.drain()
    text = both.params["text"]
    assert "•••• 0002" in text and text.index("0001") < text.index("0002")  # one message, in order
    rows = await query(bot.app.db, "SELECT attempts, sent_at IS NOT NULL FROM outbox ORDER BY id")
    assert rows == [(1, True), (1, True)]


async def test_other_errors_back_off_then_the_row_fails(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    clock = ShiftedClock()
    bot: RunningBot = await start_bot(clock=clock, notice_max_attempts=2)
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    emulator.fail_next(
        "sendMessage",
        error_code=500,
        description="Internal Server Error",
        retry_after=None,
        count=2,
    )
    mark = emulator.call_count()
    await queue(bot.app.db, ALICE, 3, clock.now())
    bot.app.notice_sender.wake()
    await emulator.wait_for_call("sendMessage", to(ALICE), after=mark)
    await bot.app.notice_sender.drain()
    rows = await query(bot.app.db, "SELECT attempts, failed_at, last_error FROM outbox")
    assert rows[0][0] == 1 and rows[0][1] is None and "ServerError" in rows[0][2]
    clock.advance(timedelta(seconds=3))  # past the first backoff (2 s)
    mark = emulator.call_count()
    bot.app.notice_sender.wake()
    await emulator.wait_for_call("sendMessage", to(ALICE), after=mark)
    await bot.app.notice_sender.drain()
    rows = await query(bot.app.db, "SELECT attempts, failed_at IS NOT NULL, sent_at FROM outbox")
    assert rows == [(2, True, None)]
    assert [c.ok for c in emulator.calls("sendMessage") if to(ALICE)(c)][-2:] == [False, False]


async def test_two_senders_on_one_database_send_each_notice_once(
    emulator: BotAPIEmulator, database_url: str
) -> None:
    users = [7000 + n for n in range(30)]
    per_user = 3
    databases: list[Database] = []
    bots: list[Bot] = []
    senders: list[NoticeSender] = []
    clock = ShiftedClock()
    i18n = I18n(("en", "ru"), "en", "USD")
    for _ in range(2):
        db = open_database(database_url)
        await db.connect()
        await db.migrate()
        databases.append(db)
        api = TelegramAPIServer.from_base(emulator.base_url)
        bot = Bot(TOKEN, session=AiohttpSession(api=api))
        bots.append(bot)
        senders.append(
            NoticeSender(
                bot,
                NoticeService(db, clock),
                UserService(db, LedgerService(db, "USD", clock), clock),
                i18n,
                rate=30,
                poll=timedelta(seconds=0.05),
                lease=timedelta(seconds=30),
                max_attempts=3,
            )
        )
    for user in users:
        emulator.add_user(user, f"User {user}")
    # Round robin, so each chat's notices fall into different batches and keep their order.
    marker = 0
    for _ in range(per_user):
        for user in users:
            marker += 1
            await queue(databases[0], user, marker, clock.now())
    tasks = [asyncio.create_task(sender.run()) for sender in senders]
    try:
        unsent = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
        for _ in range(300):
            if (await query(databases[0], unsent))[0][0] == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        for sender in senders:
            await sender.stop(grace=5)
        for task in tasks:
            task.cancel()
        for bot in bots:
            await bot.session.close()
        for db in databases:
            await db.close()

    sends = [c for c in emulator.calls("sendMessage") if c.ok]
    assert markers(sends) == Counter({f"{n:04d}": 1 for n in range(1, marker + 1)})
    for user in users:
        times = [c.time for c in sends if to(user)(c)]
        texts = [c.params["text"] for c in sends if to(user)(c)]
        ordered = [m for text in texts for m in markers([Call("", {"text": text}, 0)])]
        assert ordered == sorted(ordered), "a chat's notices keep their order"
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(times)), times


async def test_operators_reject_then_approve_withdrawals_and_the_user_hears_both(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    from bot.services.cards import CardNumber

    bot = await wallet(emulator, start_bot, withdraw_min="1")
    services = bot.app.services
    for _ in range(2):
        await buy(emulator, bot, ALICE, "$100")
    card = await services.cards.add(ALICE, CardNumber("Visa", "411111", "1111"), "12/30")

    async def request_withdrawal() -> Call:
        mark = emulator.call_count()
        operation = await services.cashback.prepare_withdrawal(ALICE, card.id)
        await services.security.confirm_operation(ALICE, operation.id, PASSWORD)
        bot.app.notice_sender.wake()
        return await emulator.wait_for_call("sendMessage", to(OPERATORS), after=mark)

    async def operator_press(message: Call, text: str) -> Call:
        mark = emulator.call_count()
        await emulator.press_button(
            ADMIN, message.result["message_id"], button_data(message, text), chat_id=OPERATORS
        )
        return await emulator.wait_for_call("editMessageText", to(OPERATORS), after=mark)

    first = await request_withdrawal()
    assert (
        "Withdrawal request #1" in first.params["text"]
        and "User: Alice (id 1001)" in first.params["text"]
    )
    assert "$2.00" in first.params["text"] and "•••• 1111" in first.params["text"]
    reasons = await operator_press(first, "Reject")
    mark = emulator.call_count()
    rejected = await operator_press(reasons, "Card declined")
    assert "Rejected by Operator: Card declined" in rejected.params["text"]
    told = await emulator.wait_for_call("sendMessage", to(ALICE), after=mark)
    assert "was rejected: the card declined the transfer" in told.params["text"]
    assert (await services.ledger.balances(ALICE)).cashback_available == usd(200)

    second = await request_withdrawal()
    assert "Withdrawal request #2" in second.params["text"]
    mark = emulator.call_count()
    approved = await operator_press(second, "Approve")
    assert "Approved and paid, by Operator." in approved.params["text"]
    told = await emulator.wait_for_call("sendMessage", to(ALICE), after=mark)
    assert "to the card •••• 1111 was paid" in told.params["text"]
    # A stale copy of the button (another operator's client) changes nothing and says why.
    mark = emulator.call_count()
    query_id = await emulator.send_callback(
        ADMIN, button_data(second, "Approve"), second.result["message_id"], chat_id=OPERATORS
    )
    answer = await answer_to(emulator, query_id, after=mark)
    assert "already approved and paid" in answer.params["text"]
    rows = await query(bot.app.db, "SELECT id, status, reason FROM withdrawals ORDER BY id")
    assert rows == [(1, "rejected", "card_declined"), (2, "paid", None)]
    balances = await services.ledger.balances(ALICE)
    assert balances.cashback_available == usd(0)
    assert await services.ledger.check_invariants() == []
