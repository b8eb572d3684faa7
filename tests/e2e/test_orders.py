"""Operator-billed orders through the real bot, on both backends: a short balance topped up
through the suggested certificate, paying with the password, the operators' buttons, receipt,
cancel with an instant refund, and refusals."""

from __future__ import annotations

from typing import Any

from bot.domain.money import Money
from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot
from tests.e2e.test_certificates import button_data
from tests.e2e.test_security_dialogues import ANSWERS, PASSWORD, secret, set_up
from tests.e2e.test_skeleton import answer_to, buttons, say, tap

ALICE, BOB = 1001, 1002
ADMIN = 4242
OPERATORS = -100500


def usd(minor: int) -> Money:
    return Money(minor, "USD")


async def shop(emulator: BotAPIEmulator, start_bot: Any) -> RunningBot:
    bot: RunningBot = await start_bot(admin_ids=str(ADMIN), support_chat_id=str(OPERATORS))
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BOB, "Bob")
    emulator.add_user(ADMIN, "Operator")
    emulator.add_group_chat(OPERATORS, "Operators", members=[ADMIN])
    await set_up(emulator, ALICE, ANSWERS)
    return bot


async def bill(emulator: BotAPIEmulator, amount: str, title: str) -> Any:
    mark = emulator.call_count()
    done = await say(emulator, ADMIN, f"/admin_order {ALICE} {amount} {title}")
    assert "created" in done.params["text"], done.params["text"]
    return await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == ALICE, after=mark
    )


async def test_short_balance_top_up_then_pay_with_the_password(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await shop(emulator, start_bot)
    card = await bill(emulator, "14", "Headphones")
    assert "Order #1" in card.params["text"] and "$14.00" in card.params["text"]
    # The balance is short: the bill says by how much and offers the top-up at once, never a
    # negative "after payment" or a Pay button that could only refuse.
    assert "$14.00 short of this order" in card.params["text"]
    assert "after payment" not in card.params["text"]
    labels = [text for text, _ in buttons(card)]
    assert "🎁 Buy a $20.00 certificate" in labels and not any("Pay" in x for x in labels)
    message_id = card.result["message_id"]
    # The suggested certificate, paid: the order comes back with its Pay button at once.
    await tap(emulator, ALICE, message_id, button_data(card, "Buy a $20.00 certificate"))
    picked = await emulator.wait_for_call("editMessageText", after=card.index)
    mark = emulator.call_count()
    await tap(emulator, ALICE, message_id, button_data(picked, "For myself"))
    invoice = await emulator.wait_for_call("sendInvoice", after=mark)
    mark = emulator.call_count()
    assert (await emulator.pay_invoice(ALICE, invoice.result["message_id"])).ok
    back = await emulator.wait_for_call(
        "sendMessage", lambda c: "Order #1" in c.params["text"], after=mark
    )
    assert "after payment: $6.00" in back.params["text"]
    mark = emulator.call_count()
    await tap(emulator, ALICE, back.result["message_id"], button_data(back, "Pay"))
    await emulator.wait_for_call(
        "sendMessage", lambda c: "payment password" in c.params["text"], after=mark
    )
    wrong = await secret(emulator, ALICE, "not-my-password")
    assert "Wrong payment password" in wrong.params["text"]
    mark = emulator.call_count()
    await emulator.send_text(ALICE, PASSWORD)
    paid = await emulator.wait_for_call(
        "sendMessage", lambda c: "is paid" in c.params["text"], after=mark
    )
    assert int(paid.params["chat_id"]) == ALICE
    assert "Balance now: <b>$6.00</b>" in paid.params["text"]  # what paying it left
    ops = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == OPERATORS, after=mark
    )
    assert [text for text, _ in buttons(ops)] == ["🚚 Shipped"]
    await bot.settled(emulator)
    held = await bot.app.services.ledger.balances(ALICE)
    assert held.balance == usd(600) and held.cashback_available == usd(20)

    # The same Pay again (a double tap that Telegram delivers late) charges nothing.
    again = await emulator.send_callback(ALICE, button_data(back, "Pay"), back.result["message_id"])
    answer = await emulator.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == again
    )
    assert "not waiting for payment" in answer.params["text"]

    # The operator ships and delivers from the buttons; the buyer hears of each and confirms.
    mark = emulator.call_count()
    await emulator.press_button(
        ADMIN, ops.result["message_id"], button_data(ops, "Shipped"), chat_id=OPERATORS
    )
    edited = await emulator.wait_for_call(
        "editMessageText", lambda c: int(c.params["chat_id"]) == OPERATORS, after=mark
    )
    notice = await emulator.wait_for_call(
        "sendMessage", lambda c: "shipped" in c.params["text"], after=mark
    )
    assert int(notice.params["chat_id"]) == ALICE
    mark = emulator.call_count()
    await emulator.press_button(
        ADMIN, ops.result["message_id"], button_data(edited, "Delivered"), chat_id=OPERATORS
    )
    delivered = await emulator.wait_for_call(
        "sendMessage", lambda c: "delivered" in c.params["text"], after=mark
    )
    mark = emulator.call_count()
    await tap(emulator, ALICE, delivered.result["message_id"], button_data(delivered, "received"))
    await emulator.wait_for_call(
        "editMessageText", lambda c: "completed" in c.params["text"], after=mark
    )
    assert await bot.app.services.ledger.check_invariants() == []
    assert await bot.app.services.certificates.drift() == []


async def test_cancel_refunds_and_refusals_change_nothing(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await shop(emulator, start_bot)
    card = await bill(emulator, "5", "Pen")
    # Bob taps Alice's button: his chat, her order id → refused, nothing changes.
    forged = await emulator.send_callback(BOB, button_data(card, "Cancel"), 1)
    answer = await emulator.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == forged
    )
    assert "not found" in (answer.params.get("text") or "")
    # Not an operator: the admin command is unknown.
    refused = await say(emulator, BOB, f"/admin_order {BOB} 5 Free")
    assert "Unknown command" in refused.params["text"]
    # An illegal transition is refused with a clear message.
    illegal = await say(emulator, ADMIN, "/admin_deliver 1")
    assert "cannot become" in illegal.params["text"]
    mark = emulator.call_count()
    await tap(emulator, ALICE, card.result["message_id"], button_data(card, "Cancel"))
    cancelled = await emulator.wait_for_call("editMessageText", after=mark)
    assert "cancelled" in cancelled.params["text"]
    assert (await bot.app.services.ledger.balances(ALICE)).balance == usd(0)


async def test_the_shop_browses_orders_and_reserves_stock(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await shop(emulator, start_bot)
    home = await say(emulator, ALICE, "/shop")
    message_id = home.result["message_id"]

    async def press(call: Any, text: str) -> Any:
        return await tap_and_edit(emulator, message_id, call, text)

    home_titles = [text for text, _ in buttons(home)]
    assert home_titles[:3] == ["🎧 Audio", "🏠 Home", "🧳 Travel"]
    listing = await press(home, "Home")
    assert "page 1 of 1" in listing.params["text"]
    card = await press(listing, "Knitted blanket")
    assert "In stock: 2" in card.params["text"] and "$55.00" in card.params["text"]
    more = await press(card, "➕")
    assert "Quantity: 2" in more.params["text"] and "$110.00" in more.params["text"]
    capped = await press(more, "➕")  # only 2 in stock
    assert "Quantity: 2" in capped.params["text"]
    order = await press(capped, "Order")
    assert "Order #1" in order.params["text"] and "Knitted blanket × 2" in order.params["text"]
    assert "$5.50" in order.params["text"]  # 5% cashback on $110, pending
    # Stock is reserved: nothing left; a cancel releases it.
    offer = await bot.app.services.catalog.offer("blanket")
    assert offer.available == 0
    await press(order, "Cancel")
    assert (await bot.app.services.catalog.offer("blanket")).available == 2
    # A forged product id or quantity changes nothing.
    forged = await emulator.send_callback(ALICE, "shop:b:home:blanket:0:11", message_id)
    answer = await emulator.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == forged
    )
    assert "from 1 to 10" in answer.params["text"]
    assert (await bot.app.services.orders.page(ALICE, 0)).total == 1


async def test_history_pages_and_the_csv_sums_to_the_balance(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    import csv
    import io
    from decimal import Decimal

    from tests.e2e.test_certificates import buy

    bot = await shop(emulator, start_bot)
    for nominal in ("$50", "$10", "$20", "$5", "$100"):
        await buy(emulator, bot, ALICE, nominal)
    app = bot.app
    order = await app.services.orders.create(ALICE, "Lamp", usd(2399))
    operation = await app.services.orders.prepare_payment(ALICE, order.id)
    await app.services.security.confirm_operation(ALICE, operation.id, PASSWORD)

    first = await say(emulator, ALICE, "/history")
    assert "order paid" in first.params["text"] and "−$23.99" in first.params["text"]
    assert "certificate bought" in first.params["text"]
    mark = emulator.call_count()
    await tap(emulator, ALICE, first.result["message_id"], button_data(first, "Export"))
    sent = await emulator.wait_for_call("sendDocument", after=mark)
    document = emulator.last_message(ALICE)
    assert document is not None and document["document"] is not None
    content, _mime, name = emulator.download(document["document"]["file_id"])  # type: ignore[misc]
    assert name.endswith(".csv") and sent.ok
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert rows[0].keys() >= {"date", "amount", "account", "balance_after", "description"}
    held = await app.services.ledger.balances(ALICE)
    for account, expected in (
        ("balance", held.balance),
        ("cashback_available", held.cashback_available),
    ):
        total = sum(Decimal(r["amount"]) for r in rows if r["account"] == account)
        assert total == expected.as_decimal(), account
    assert held.balance == usd(18500 - 2399)


async def test_a_double_tap_on_order_makes_one_order(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await shop(emulator, start_bot)
    home = await say(emulator, ALICE, "/shop")
    message_id = home.result["message_id"]
    listing = await tap_and_edit(emulator, message_id, home, "Home")
    card = await tap_and_edit(emulator, message_id, listing, "Knitted blanket")
    # Both presses reach the bot before either is answered. Two orders of one blanket each
    # would both succeed (2 in stock), so only the key keeps it to one.
    mark = emulator.call_count()
    data = button_data(card, "Order")
    taps = [await emulator.press_button(ALICE, message_id, data) for _ in range(2)]
    for query_id in taps:
        answer = await answer_to(emulator, query_id, after=mark)
        assert not answer.params.get("text"), answer.params
    first = await emulator.wait_for_call("editMessageText", after=mark)
    assert "Order #1" in first.params["text"]
    await bot.settled(emulator)
    assert (await bot.app.services.orders.page(ALICE, 0)).total == 1
    assert (await bot.app.services.catalog.offer("blanket")).available == 1
    # Once that order is cancelled, the same card (opened again) orders anew.
    await tap_and_edit(emulator, message_id, first, "Cancel")
    assert (await bot.app.services.catalog.offer("blanket")).available == 2
    await emulator.send_callback(ALICE, data, message_id)
    again = await emulator.wait_for_call(
        "editMessageText", lambda c: "Order #2" in c.params["text"]
    )
    assert "Knitted blanket" in again.params["text"]
    assert (await bot.app.services.catalog.offer("blanket")).available == 1


async def tap_and_edit(emulator: BotAPIEmulator, message_id: int, call: Any, text: str) -> Any:
    mark = emulator.call_count()
    await tap(emulator, ALICE, message_id, button_data(call, text))
    return await emulator.wait_for_call("editMessageText", after=mark)


async def test_telegram_down_after_the_password_tells_only_what_happened(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    """The order is paid, then every send answers 500 for 10 s: the answer is lost, the update
    retried and parked. The buyer then hears, through the outbox, that order #1 is paid, and
    never that nothing was charged."""
    import asyncio

    from bot.handlers.dialogs import ask_to_confirm
    from tests.e2e.test_certificates import buy

    bot = await shop(emulator, start_bot)
    await buy(emulator, bot, ALICE, "$50")
    services = bot.app.services
    order = await services.orders.create(ALICE, "Lamp", usd(2000))
    operation = await services.orders.prepare_payment(ALICE, order.id)
    state = bot.app.dispatcher.fsm.get_context(bot=bot.app.bot, chat_id=ALICE, user_id=ALICE)
    await ask_to_confirm(bot.app.bot, state, bot.app.i18n("en"), services, operation)
    await bot.notices_out()

    mark = emulator.call_count()
    emulator.fail_next(("sendMessage", "editMessageText"), error_code=500, count=100_000)
    await emulator.send_text(ALICE, PASSWORD)
    await asyncio.sleep(10)
    emulator.heal()
    await bot.settled(emulator, limit=30)
    await bot.notices_out()

    assert (await services.orders.view(ALICE, order.id)).order.status == "paid"
    assert (await services.ledger.balances(ALICE)).balance == usd(3000)
    told = [
        c.params["text"]
        for c in emulator.calls("sendMessage")
        if c.index >= mark and c.ok and int(c.params["chat_id"]) == ALICE
    ]
    assert any("order #1 is paid from your balance" in text for text in told), told
    assert not any("Nothing was charged" in text for text in told), told
