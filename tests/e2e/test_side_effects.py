"""Messages to anyone but the update's sender go through the outbox, on both backends: an
operator's bill survives Telegram's faults and a replay with one order, a buyer who blocked the
bot is reported to the operators (who stay reachable), and the operators' order card follows
the order whichever path changes it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator import BotAPIEmulator
from tests.conftest import query
from tests.e2e.test_certificates import button_data, buy
from tests.e2e.test_orders import ADMIN, ALICE, OPERATORS, shop
from tests.e2e.test_security_dialogues import PASSWORD
from tests.e2e.test_skeleton import answer_to, buttons, say

BILL = "You have a new bill"


def to(chat: int) -> Any:
    return lambda c: int(c.params["chat_id"]) == chat


def bills(emulator: BotAPIEmulator) -> list[Any]:
    return [
        c
        for c in emulator.calls("sendMessage")
        if c.ok and to(ALICE)(c) and BILL in c.params["text"]
    ]


@pytest.mark.parametrize("fault", ["500", "502 page", "429"])
async def test_a_fault_on_the_bill_leaves_one_order_and_the_bill_arrives(
    emulator: BotAPIEmulator, start_bot: Any, fault: str
) -> None:
    bot = await shop(emulator, start_bot)
    # The next sends fail, whichever they are: the operator's own answer (so the inbox
    # replays the whole command) or the bill to the buyer (so the outbox sends it again).
    if fault == "502 page":
        emulator.fail_next_with_page("sendMessage", status=502, count=3)
    else:
        emulator.fail_next("sendMessage", error_code=int(fault), retry_after=1, count=3)
    mark = emulator.call_count()
    await emulator.send_text(ADMIN, f"/admin_order {ALICE} 14 Headphones")
    done = await emulator.wait_for_call(
        "sendMessage", lambda c: c.ok and to(ADMIN)(c), after=mark, timeout=20
    )
    assert "Order #1 created" in done.params["text"]
    await bot.settled(emulator, limit=20)
    await bot.notices_out()
    assert (await query(bot.app.db, "SELECT COUNT(*) FROM orders"))[0][0] == 1
    (bill,) = bills(emulator)
    assert "Order #1" in bill.params["text"] and "$14.00" in bill.params["text"]
    # The buyer's balance is empty: the bill offers the top-up that covers it, and Cancel.
    labels = [text for text, _ in buttons(bill)]
    assert labels[0] == "🎁 Buy a $20.00 certificate" and "✖️ Cancel the order" in labels


async def test_a_buyer_who_blocked_the_bot_is_reported_and_the_operator_stays_reachable(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await shop(emulator, start_bot)
    emulator.block(ALICE)
    mark = emulator.call_count()
    done = await say(emulator, ADMIN, f"/admin_order {ALICE} 5 Pen")
    assert "created" in done.params["text"]
    report = await emulator.wait_for_call("sendMessage", to(OPERATORS), after=mark)
    assert "Not delivered" in report.params["text"] and "Alice" in report.params["text"]
    assert str(ALICE) in report.params["text"]
    users = bot.app.services.users
    assert (await users.get(ADMIN)).reachable  # type: ignore[union-attr]
    assert not (await users.get(ALICE)).reachable  # type: ignore[union-attr]
    assert bills(emulator) == []
    # Back again: the bill that waited arrives, once, and nobody is told twice.
    emulator.unblock(ALICE)
    await say(emulator, ALICE, "/start")
    await bot.notices_out()
    assert len(bills(emulator)) == 1
    reports = [
        c
        for c in emulator.calls("sendMessage")
        if to(OPERATORS)(c) and "Not delivered" in c.params["text"]
    ]
    assert len(reports) == 1


async def test_the_operators_card_follows_the_order_and_a_stale_button_is_refused(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await shop(emulator, start_bot)
    await buy(emulator, bot, ALICE, "$20")
    await say(emulator, ADMIN, f"/admin_order {ALICE} 14 Headphones")
    await bot.notices_out()
    (bill,) = bills(emulator)
    orders = bot.app.services.orders
    operation = await orders.prepare_payment(ALICE, 1)
    await bot.app.services.security.confirm_operation(ALICE, operation.id, PASSWORD)
    await bot.notices_out()
    posted = [c for c in emulator.calls("sendMessage") if to(OPERATORS)(c) and c.ok]
    (card,) = [c for c in posted if "Order #1" in c.params["text"]]
    assert "Alice" in card.params["text"] and "paid" in card.params["text"]
    assert [text for text, _ in buttons(card)] == ["🚚 Shipped"]
    card_id = card.result["message_id"]

    def card_now() -> dict[str, Any]:
        message = emulator.message(OPERATORS, card_id)
        assert message is not None
        return message

    # A button on the card: the card shows the new state at once.
    shipped_button = button_data(card, "Shipped")
    mark = emulator.call_count()
    await emulator.press_button(ADMIN, card_id, shipped_button, chat_id=OPERATORS)
    await emulator.wait_for_call("editMessageText", to(OPERATORS), after=mark)
    await bot.notices_out()
    assert "shipped" in card_now()["text"]
    # A command: the card is edited through the outbox, and loses the buttons it outgrew.
    await say(emulator, ADMIN, "/admin_deliver 1")
    await bot.notices_out()
    assert "delivered" in card_now()["text"] and not card_now().get("reply_markup")
    # The buyer's own tap: the card follows too.
    view = await orders.view(ALICE, 1)
    assert view.order.status == "delivered"
    await orders.confirm_receipt(ALICE, 1)
    await bot.notices_out()
    assert "completed" in card_now()["text"]
    # The Shipped button of the card as it was: refused with the order's current state.
    mark = emulator.call_count()
    stale = await emulator.send_callback(ADMIN, shipped_button, card_id, chat_id=OPERATORS)
    answer = await answer_to(emulator, stale, after=mark)
    assert "is now: completed" in answer.params["text"]
    assert (await orders.view(ALICE, 1)).order.status == "completed"
    # One card in the operators' chat all along, and the buyer heard of each change.
    cards = [
        c
        for c in emulator.calls("sendMessage")
        if to(OPERATORS)(c) and "Order #1" in c.params["text"]
    ]
    assert len(cards) == 1
    heard = [
        c.params["text"]
        for c in emulator.calls("sendMessage")
        if c.ok and to(ALICE)(c) and c.params["text"].startswith("📦 Order #1:")
    ]
    assert heard == ["📦 Order #1: shipped.", "📦 Order #1: delivered."]
    assert bill.ok
