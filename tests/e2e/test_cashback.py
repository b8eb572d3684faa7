"""Cashback through the real bot, on both backends: the screen by status with dates, the
minimum named in the refusal, withdrawing to a saved card and moving to the balance with the
payment password, and an order's cashback held with its release date."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bot.domain.clock import ShiftedClock
from bot.domain.models import Order
from bot.domain.money import Money
from bot.emulator import BotAPIEmulator, parse_html
from tests.conftest import RunningBot, query
from tests.e2e.test_cards import NUMBER, add_card
from tests.e2e.test_certificates import button_data, buy
from tests.e2e.test_security_dialogues import ANSWERS, PASSWORD, secret, set_up
from tests.e2e.test_skeleton import answer_to, say, tap

ALICE = 1001
ADMIN = 4242
OPERATORS = -100500


def usd(minor: int) -> Money:
    return Money(minor, "USD")


async def wallet(emulator: BotAPIEmulator, start_bot: Any, **overrides: Any) -> RunningBot:
    bot: RunningBot = await start_bot(
        admin_ids=str(ADMIN), support_chat_id=str(OPERATORS), **overrides
    )
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(ADMIN, "Operator")
    emulator.add_group_chat(OPERATORS, "Operators", members=[ADMIN])
    await set_up(emulator, ALICE, ANSWERS)
    return bot


async def press(emulator: BotAPIEmulator, screen: Any, text: str) -> Any:
    mark = emulator.call_count()
    await tap(emulator, ALICE, screen.result["message_id"], button_data(screen, text))
    return await emulator.wait_for_call(
        "editMessageText", lambda c: int(c.params["chat_id"]) == ALICE, after=mark
    )


async def test_withdraw_names_the_minimum_then_goes_to_a_saved_card(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await wallet(emulator, start_bot, withdraw_min="1")
    await buy(emulator, bot, ALICE, "$50")
    screen = await say(emulator, ALICE, "/cashback")
    text = screen.params["text"]
    assert "Available: <b>$0.50</b>" in text and "from $1.00" in text
    assert "certificate · <b>$0.50</b> · available since" in text

    mark = emulator.call_count()
    query_id = await emulator.send_callback(
        ALICE, button_data(screen, "Withdraw"), screen.result["message_id"]
    )
    refusal = await answer_to(emulator, query_id, after=mark)
    assert "Withdrawals start at $1.00; you have $0.50" in refusal.params["text"]

    await buy(emulator, bot, ALICE, "$50")
    screen = await say(emulator, ALICE, "/cashback")
    no_card = await press(emulator, screen, "Withdraw")
    assert "add a card first" in no_card.params["text"]
    await add_card(emulator, ALICE, NUMBER, "12/30")
    await bot.settled(emulator)  # the card list follows the "added" message
    screen = await say(emulator, ALICE, "/cashback")
    pick = await press(emulator, screen, "Withdraw")
    assert "Withdraw <b>$1.00</b> to which card?" in pick.params["text"]
    mark = emulator.call_count()
    confirm = await press(emulator, pick, "0009")
    assert "to the card •••• 0009" in confirm.params["text"]
    await emulator.wait_for_call(
        "sendMessage", lambda c: "payment password" in c.params["text"], after=mark
    )
    wrong = await secret(emulator, ALICE, "not-my-password")
    assert "Wrong payment password" in wrong.params["text"]
    done = await secret(emulator, ALICE, PASSWORD)
    assert "Withdrawal request #1: <b>$1.00</b> to the card •••• 0009" in done.params["text"]

    balances = await bot.app.services.ledger.balances(ALICE)
    assert balances.cashback_available == usd(0) and balances.balance == usd(10000)
    rows = await query(bot.app.db, "SELECT status, amount, card_last4 FROM withdrawals")
    assert rows == [("requested", 100, "0009")]
    # The operators' copy waits in the outbox, written in the same unit of work.
    queued = await query(bot.app.db, "SELECT chat_id, template FROM outbox ORDER BY id")
    assert (OPERATORS, "ops-withdrawal-card") in queued
    assert await bot.app.services.ledger.check_invariants() == []


async def test_move_to_balance_with_the_password(emulator: BotAPIEmulator, start_bot: Any) -> None:
    bot = await wallet(emulator, start_bot)
    await buy(emulator, bot, ALICE, "$50")
    screen = await say(emulator, ALICE, "/cashback")
    mark = emulator.call_count()
    confirm = await press(emulator, screen, "Move to balance")
    assert "Move <b>$0.50</b> of cashback to your balance." in confirm.params["text"]
    await emulator.wait_for_call(
        "sendMessage", lambda c: "payment password" in c.params["text"], after=mark
    )
    moved = await secret(emulator, ALICE, PASSWORD)
    assert "$0.50 moved to your balance" in moved.params["text"]
    assert "Balance: <b>$50.50</b>" in moved.params["text"]
    balances = await bot.app.services.ledger.balances(ALICE)
    assert balances.balance == usd(5050) and balances.cashback_available == usd(0)
    # Nothing left to move: a clear answer, nothing changes.
    again = await say(emulator, ALICE, "/cashback")
    mark = emulator.call_count()
    query_id = await emulator.send_callback(
        ALICE, button_data(again, "Move to balance"), again.result["message_id"]
    )
    refusal = await answer_to(emulator, query_id, after=mark)
    assert "no available cashback" in refusal.params["text"]
    assert await bot.app.services.ledger.balances(ALICE) == balances


async def inline_answer(emulator: BotAPIEmulator, user_id: int) -> Any:
    mark = emulator.call_count()
    query_id = await emulator.send_inline_query(user_id, "")
    await emulator.wait_for_call("answerInlineQuery", after=mark)
    (article,) = emulator.inline_query(query_id)["results"]
    return article


async def paid_lamp(
    emulator: BotAPIEmulator, start_bot: Any, clock: ShiftedClock
) -> tuple[RunningBot, Order]:
    """Alice, $50 on her balance, pays a $20 lamp earning 5% ($1.00) with her password; the
    goods' cashback is held for 14 days once the order completes."""
    bot = await wallet(emulator, start_bot, clock=clock, cashback_hold="P14D")
    await buy(emulator, bot, ALICE, "$50")
    services = bot.app.services
    order = await services.orders.create(ALICE, "Lamp", usd(2000), cashback_percent=Decimal(5))
    operation = await services.orders.prepare_payment(ALICE, order.id)
    await services.security.confirm_operation(ALICE, operation.id, PASSWORD)
    return bot, order


async def test_an_orders_cashback_is_held_with_its_date_then_available(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    clock = ShiftedClock()
    bot, order = await paid_lamp(emulator, start_bot, clock)
    services = bot.app.services
    screen = await say(emulator, ALICE, "/cashback")
    assert "Pending: $1.00" in screen.params["text"]
    assert "order #1 · <b>$1.00</b> · pending until receipt is confirmed" in screen.params["text"]
    balance = await say(emulator, ALICE, "/balance")
    assert "Cashback pending: $1.00 — until you confirm receipt" in balance.params["text"]
    assert "on hold" not in balance.params["text"]

    await services.orders.operator_action(ADMIN, order.id, "shipped")
    await services.orders.operator_action(ADMIN, order.id, "delivered")
    await services.orders.confirm_receipt(ALICE, order.id)
    await bot.notices_out()  # the buyer heard of shipping and delivery first
    release = clock.now() + timedelta(days=14)
    screen = await say(emulator, ALICE, "/cashback")
    text = screen.params["text"]
    day = f"{release:%b} {release.day}, {release.year}"
    assert "On hold: $1.00" in text and f"on hold until {day}" in text, text
    # The date goes out as a date_time entity: Telegram shows it in the reader's time zone.
    moment = rf'<tg-time unix="\d+" format="D">{re.escape(day)}</tg-time>'
    assert re.search(rf"Next to become available: <b>\$1\.00</b> on {moment}", text), text
    shown, entities = parse_html(text)
    assert f"Next to become available: $1.00 on {day}" in shown
    assert {"date_time"} <= {entity["type"] for entity in entities}
    card = await say(emulator, ALICE, "/orders")
    opened = await press(emulator, card, "Lamp")
    assert f"Cashback for the goods: $1.00, on hold until {day}" in opened.params["text"]
    # /balance and the inline card agree with /cashback: held, with its date, not "pending".
    balance = await say(emulator, ALICE, "/balance")
    shown = parse_html(balance.params["text"])[0]
    assert f"Cashback on hold: $1.00 — available from {day}" in shown
    assert "pending" not in balance.params["text"]
    inline = await inline_answer(emulator, ALICE)
    assert "on hold $1.00, pending $0.00" in inline["description"]
    shared = parse_html(inline["input_message_content"]["message_text"])[0]
    assert f"Cashback on hold: $1.00 — available from {day}" in shared

    assert await services.cashback.release_due() == Money(0, "USD")  # not yet
    clock.advance(timedelta(days=14, minutes=1))
    assert await services.cashback.release_due() == Money(100, "USD")
    await bot.notices_out()
    screen = await say(emulator, ALICE, "/cashback")
    assert "Available: <b>$1.50</b>" in screen.params["text"]
    assert "order #1 · <b>$1.00</b> · available since" in screen.params["text"]
    assert "Next to become available" not in screen.params["text"]
    assert await services.cashback.drift() == []


async def test_an_order_that_completes_by_itself_tells_the_buyer_with_the_hold_date(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    clock = ShiftedClock()
    bot, order = await paid_lamp(emulator, start_bot, clock)
    services = bot.app.services
    await services.orders.operator_action(ADMIN, order.id, "shipped")
    await services.orders.operator_action(ADMIN, order.id, "delivered")
    await bot.notices_out()
    clock.advance(timedelta(days=15, minutes=1))  # ORDER_PROTECTION has passed
    mark = emulator.call_count()
    await bot.app.run_scheduled_jobs()
    await bot.notices_out()
    notice = await emulator.wait_for_call(
        "sendMessage",
        lambda c: int(c.params["chat_id"]) == ALICE and "completed by itself" in c.params["text"],
        after=mark,
    )
    release = clock.now() + timedelta(days=14)
    day = f"{release:%b} {release.day}, {release.year}"
    assert "Order #1" in notice.params["text"]
    assert f"Cashback for the goods: $1.00, on hold until {day}" in notice.params["text"]
