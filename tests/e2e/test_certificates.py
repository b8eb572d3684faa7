"""Buying certificates through the real bot and the emulator's payment flow, on both backends:
Stars and fiat invoices, pre-checkout refusals, one credit per charge, refunds, reconciliation
and typed amounts that must change nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bot.domain.money import Money
from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot, query
from tests.e2e.test_skeleton import buttons, say, tap

ALICE = 1001
BOB = 1002
CAROL = 1003
ADMIN = 4242
OPERATORS = -100500


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def button_data(call: Any, text_part: str) -> str:
    return next(data for text, data in buttons(call) if text_part in text)


async def open_buy(emulator: BotAPIEmulator, user_id: int) -> Any:
    return await say(emulator, user_id, "/buy")


async def invoice_for(
    emulator: BotAPIEmulator, user_id: int, nominal: str, purpose: str = "For myself"
) -> Any:
    """/buy → a nominal → who it is for → the invoice the bot sends."""
    screen = await open_buy(emulator, user_id)
    message_id = screen.result["message_id"]
    await tap(emulator, user_id, message_id, button_data(screen, nominal))
    picked = await emulator.wait_for_call(
        "editMessageText", lambda c: int(c.params["chat_id"]) == user_id, after=screen.index
    )
    mark = emulator.call_count()
    await tap(emulator, user_id, message_id, button_data(picked, purpose))
    if purpose not in ("For myself", "Себе"):
        return None
    return await emulator.wait_for_call(
        "sendInvoice", lambda c: int(c.params["chat_id"]) == user_id, after=mark
    )


async def buy(
    emulator: BotAPIEmulator,
    bot: RunningBot,
    user_id: int,
    nominal: str,
    purpose: str = "For myself",
) -> Any:
    invoice = await invoice_for(emulator, user_id, nominal, purpose)
    mark = emulator.call_count()
    outcome = await emulator.pay_invoice(user_id, invoice.result["message_id"])
    assert outcome.ok, outcome
    await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == user_id, after=mark
    )
    await bot.settled(emulator)
    return outcome


async def books_balance(bot: RunningBot) -> None:
    assert await bot.app.services.ledger.check_invariants() == []
    assert await bot.app.services.certificates.drift() == []


async def test_a_stars_purchase_credits_the_balance_and_cashback_once(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    invoice = await invoice_for(emulator, ALICE, "$20")
    params = invoice.params
    assert params["currency"] == "XTR"
    prices = (
        params["prices"] if isinstance(params["prices"], list) else json.loads(params["prices"])
    )
    assert prices == [{"label": "Gift certificate $20.00", "amount": 1000}]
    assert not params.get("provider_token")
    # The payload is the purchase's random id: it carries no amount.
    assert await query(
        bot.app.db, "SELECT amount FROM purchases WHERE public_id = $1", params["payload"]
    ) == [(2000,)]
    assert len(params["payload"]) >= 20

    emulator.duplicate_next_payment()  # Telegram delivers this payment twice
    mark = emulator.call_count()
    outcome = await emulator.pay_invoice(ALICE, invoice.result["message_id"])
    assert outcome.ok and outcome.status == "paid"
    await bot.settled(emulator)
    replies = [
        c
        for c in emulator.calls("sendMessage")
        if c.index >= mark and int(c.params["chat_id"]) == ALICE
    ]
    assert len(replies) == 1, [c.params["text"] for c in replies]
    assert "$20.00" in replies[0].params["text"] and "+$0.20" in replies[0].params["text"]

    balances = await bot.app.services.ledger.balances(ALICE)
    assert balances.balance == usd(2000)
    assert balances.cashback_available == usd(20)
    rows = await query(
        bot.app.db,
        "SELECT status, telegram_charge_id, provider_charge_id FROM purchases WHERE user_id = $1",
        ALICE,
    )
    assert rows == [
        ("paid", outcome.telegram_payment_charge_id, outcome.provider_payment_charge_id)
    ]
    entries = await query(
        bot.app.db, "SELECT idempotency_key FROM entries WHERE user_id = $1", ALICE
    )
    assert entries == [(f"tg-charge:{outcome.telegram_payment_charge_id}",)]
    await books_balance(bot)


async def test_fiat_invoice_with_a_provider_token(emulator: BotAPIEmulator, start_bot: Any) -> None:
    bot = await start_bot(payment_provider_token="284685063:TEST:demo")
    emulator.add_user(ALICE, "Alice")
    invoice = await invoice_for(emulator, ALICE, "$10")
    assert invoice.params["currency"] == "USD"
    assert invoice.params["provider_token"] == "284685063:TEST:demo"
    outcome = await emulator.pay_invoice(ALICE, invoice.result["message_id"])
    assert outcome.ok
    await bot.settled(emulator)
    assert (await bot.app.services.ledger.balances(ALICE)).balance == usd(1000)


async def test_pre_checkout_refuses_what_does_not_match(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await start_bot(certificate_nominals="5,10,20", certificate_max="30", balance_max="30")
    emulator.add_user(ALICE, "Alice", "en")
    emulator.add_user(BOB, "Bob", "ru")
    first = await invoice_for(emulator, ALICE, "$20")
    second = await invoice_for(emulator, ALICE, "$10")
    payload = first.params["payload"]

    forged = await emulator.pay_tampered(ALICE, payload="made-up", currency="XTR", total_amount=1)
    assert forged.status == "declined" and "not yours" in (forged.error_message or "")
    cheaper = await emulator.pay_tampered(ALICE, payload=payload, currency="XTR", total_amount=1)
    assert "does not match" in (cheaper.error_message or "")
    other_currency = await emulator.pay_tampered(
        ALICE, payload=payload, currency="USD", total_amount=1000
    )
    assert other_currency.status == "declined"
    someone_elses = await emulator.pay_tampered(
        BOB, payload=payload, currency="XTR", total_amount=1000
    )
    assert "не ваш" in (someone_elses.error_message or "")  # in Bob's language

    assert (await emulator.pay_invoice(ALICE, first.result["message_id"])).ok
    await bot.settled(emulator)
    again = await emulator.pay_invoice(ALICE, first.result["message_id"])
    assert "paid already" in (again.error_message or "")
    # $20 + $10 = $30 fits; one more $20 would not, and is refused before an invoice.
    assert (await emulator.pay_invoice(ALICE, second.result["message_id"])).ok
    await bot.settled(emulator)
    screen = await open_buy(emulator, ALICE)
    await tap(emulator, ALICE, screen.result["message_id"], button_data(screen, "$5"))
    picked = await emulator.wait_for_call("editMessageText", after=screen.index)
    answer, _ = await tap(
        emulator, ALICE, screen.result["message_id"], button_data(picked, "For myself")
    )
    assert "at most $30.00" in answer.params["text"]
    assert (await bot.app.services.ledger.balances(ALICE)).balance == usd(3000)
    assert len(emulator.calls("sendInvoice")) == 2
    await books_balance(bot)


BAD_AMOUNTS = {
    "abc": "as digits",
    "0": "greater than zero",
    "-10": "positive",
    "1e5": "as digits",
    "12.345": "Too many digits",
    "12.": "as digits",
    ".5": "as digits",
    "4.99": "smallest certificate is $5.00",
    "1": "smallest certificate is $5.00",
    "200.01": "largest certificate is $200.00",
    "1000000": "largest certificate is $200.00",
    "9" * 40: "too long",
    "NaN": "as digits",
    "inf": "as digits",
    "12,5,0": "as digits",
    "1 000": "as digits",
    "$20": "as digits",
    "0x10": "as digits",
    "２０": "as digits",  # full-width digits
}


async def test_bad_custom_amounts_are_answered_and_change_nothing(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    screen = await open_buy(emulator, ALICE)
    await tap(emulator, ALICE, screen.result["message_id"], button_data(screen, "Another amount"))
    for text, expected in BAD_AMOUNTS.items():
        reply = await say(emulator, ALICE, text)
        assert expected in reply.params["text"], (text, reply.params["text"])
    assert emulator.calls("sendInvoice") == []
    assert await query(bot.app.db, "SELECT COUNT(*) FROM purchases") == [(0,)]
    assert await query(bot.app.db, "SELECT COUNT(*) FROM entries") == [(0,)]
    # A good amount still works after all that.
    picked = await say(emulator, ALICE, "12,50")
    assert "$12.50" in picked.params["text"] and "⭐ 625" in picked.params["text"]


async def test_operator_refund_reverses_the_credit_once(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await start_bot(admin_ids=str(ADMIN))
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(ADMIN, "Operator")
    outcome = await buy(emulator, bot, ALICE, "$50")
    charge = outcome.telegram_payment_charge_id

    done = await say(emulator, ADMIN, f"/admin_refund {charge}")
    assert "taken back" in done.params["text"]
    refunds = emulator.calls("refundStarPayment")
    assert len(refunds) == 1 and refunds[0].ok
    await bot.settled(emulator)
    balances = await bot.app.services.ledger.balances(ALICE)
    assert balances.balance == usd(0) and balances.cashback_available == usd(0)
    await bot.notices_out()  # the payer hears through the outbox
    notice = emulator.last_message(ALICE)
    assert notice is not None and "refund of $50.00" in notice["text"]

    # Again: said to be refunded already, with when; Telegram is not asked, nothing moves.
    again = await say(emulator, ADMIN, f"/admin_refund {charge}")
    assert f"Charge {charge} was refunded already, on " in again.params["text"]
    assert "Nothing moved now" in again.params["text"]
    assert len(emulator.calls("refundStarPayment")) == 1
    assert (await bot.app.services.ledger.balances(ALICE)).balance == usd(0)
    await books_balance(bot)

    # Not an operator: unknown command, nothing refunded.
    other = await buy(emulator, bot, ALICE, "$5")
    refused = await say(emulator, ALICE, f"/admin_refund {other.telegram_payment_charge_id}")
    assert "Unknown command" in refused.params["text"]
    assert len(emulator.calls("refundStarPayment")) == 1


async def test_refund_is_refused_once_the_certificate_is_spent(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await start_bot(admin_ids=str(ADMIN))
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(ADMIN, "Operator")
    outcome = await buy(emulator, bot, ALICE, "$20")
    app = bot.app
    async with app.db.unit_of_work() as uow:
        from bot.services.ledger import ORDERS

        await app.services.certificates.spend(
            uow, ALICE, usd(500), key="test-order:1", kind="order_payment", to=ORDERS
        )
    refused = await say(emulator, ADMIN, f"/admin_refund {outcome.telegram_payment_charge_id}")
    assert "$5.00 of this certificate has been spent" in refused.params["text"]
    assert emulator.calls("refundStarPayment") == []
    assert (await app.services.ledger.balances(ALICE)).balance == usd(1500)
    await books_balance(bot)


async def test_refunded_payment_from_telegram_reverses_once(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    outcome = await buy(emulator, bot, ALICE, "$10")
    charge = outcome.telegram_payment_charge_id
    assert charge is not None
    update = await emulator.refund_payment_update(ALICE, charge)
    await bot.settled(emulator)
    assert (await bot.app.services.ledger.balances(ALICE)).balance == usd(0)
    # The same message delivered again takes nothing more.
    await emulator.send_raw_update({"message": _message_of(emulator, update)})
    await bot.settled(emulator)
    rows = await query(
        bot.app.db, "SELECT COUNT(*) FROM entries WHERE idempotency_key = $1", f"tg-refund:{charge}"
    )
    assert rows == [(1,)]
    await books_balance(bot)


def _message_of(emulator: BotAPIEmulator, record: Any) -> Any:
    update = next(u for u in emulator.update_log() if u["update_id"] == record["update_id"])
    return update["message"]


async def test_reconciliation_finds_a_planted_difference(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await start_bot(admin_ids=str(ADMIN), support_chat_id=str(OPERATORS))
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(ADMIN, "Operator")
    emulator.add_group_chat(OPERATORS, "Operators", members=[ADMIN])
    first = await buy(emulator, bot, ALICE, "$10")
    second = await buy(emulator, bot, ALICE, "$5")
    first_stars = next(
        p["total_amount"]
        for p in emulator.payments()
        if p["telegram_payment_charge_id"] == first.telegram_payment_charge_id
    )
    clean = await say(emulator, ADMIN, "/admin_reconcile")
    assert "no differences" in clean.params["text"]

    # Plant: Telegram refunds the first charge but the bot never hears of it.
    await emulator_refund_silently(emulator, ALICE, first.telegram_payment_charge_id)
    mark = emulator.call_count()
    found = await say(emulator, ADMIN, "/admin_reconcile")
    assert "2 differences" in found.params["text"]
    report = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == OPERATORS, after=mark
    )
    assert first.telegram_payment_charge_id in report.params["text"]
    assert "not reversed" in report.params["text"]
    assert second.telegram_payment_charge_id not in report.params["text"]
    # The balance is short by the refund, which the books don't know of.
    assert f"differs from the books by ⭐ -{first_stars}" in report.params["text"]


async def test_the_stars_account_counts_commissions_and_withdrawals(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    """getMyStarBalance as an invariant: what the ledger collected, less refunds, less the
    affiliates' commissions, less withdrawals, is what Telegram holds, to the billionth."""
    bot = await start_bot(admin_ids=str(ADMIN), support_chat_id=str(OPERATORS))
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BOB, "Bob")
    emulator.add_user(ADMIN, "Operator")
    emulator.add_group_chat(OPERATORS, "Operators", members=[ADMIN])
    await buy(emulator, bot, ALICE, "$10")
    emulator.refer(BOB, affiliate_id=CAROL, commission_per_mille=105)
    referred = await buy(emulator, bot, BOB, "$5")
    emulator.withdraw_stars(100)
    emulator.spend_on_ads(20)
    emulator.earn_commission(250_000_000, sponsor_id=CAROL, commission_per_mille=50)

    answer = await say(emulator, ADMIN, "/admin_reconcile")
    text = answer.params["text"]
    assert "no differences" in text, text
    charged = {p["telegram_payment_charge_id"]: p["total_amount"] for p in emulator.payments()}
    bob_stars = charged[referred.telegram_payment_charge_id]
    commission = Decimal(bob_stars) * Decimal("0.105")
    assert f"Affiliate commissions: -{commission.normalize():f}" in text
    assert "Withdrawn to Fragment: -100" in text and "Telegram Ads: -20" in text
    assert "Earned as an affiliate: +0.25" in text
    balance = Decimal(emulator.star_balance()).scaleb(-9).normalize()
    assert f"Balance by the books: {balance:f}" in text
    assert f"Telegram's balance: {balance:f}" in text

    # Bob's refund takes back the net; his affiliate returns the share, and all still agrees.
    await emulator.refund_payment_update(BOB, referred.telegram_payment_charge_id)
    await bot.settled(emulator)
    report = await bot.app.reconciler.run()
    assert report.problems == []
    assert report.books.commissions == 0
    assert report.books.balance == emulator.star_balance()


async def emulator_refund_silently(emulator: BotAPIEmulator, user_id: int, charge: Any) -> None:
    """Refund through the Bot API method itself, as another tool of the shop might."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        url = f"{emulator.base_url}/bot{emulator.token}/refundStarPayment"
        body = {"user_id": user_id, "telegram_payment_charge_id": charge}
        async with session.post(url, json=body) as response:
            assert (await response.json())["ok"] is True


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_purchase_conversation_in_both_languages(
    emulator: BotAPIEmulator, bot: RunningBot, language: str
) -> None:
    emulator.add_user(ALICE, "Alice", language)
    screen = await open_buy(emulator, ALICE)
    nominal = "$100.00" if language == "en" else "100,00\xa0$"
    await tap(emulator, ALICE, screen.result["message_id"], button_data(screen, nominal))
    picked = await emulator.wait_for_call("editMessageText", after=screen.index)
    purpose = "For myself" if language == "en" else "Себе"
    mark = emulator.call_count()
    await tap(emulator, ALICE, screen.result["message_id"], button_data(picked, purpose))
    invoice = await emulator.wait_for_call("sendInvoice", after=mark)
    mark = emulator.call_count()
    assert (await emulator.pay_invoice(ALICE, invoice.result["message_id"])).ok
    done = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == ALICE, after=mark
    )
    transcript = "\n---\n".join(
        [screen.params["text"], picked.params["text"], invoice.params["title"], done.params["text"]]
    )
    print(transcript)  # the closing note quotes this conversation
    expected = "Balance now" if language == "en" else "Баланс теперь"
    assert expected in done.params["text"]


async def test_paysupport_shows_operators_the_charges_and_terms_are_in_the_menu(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    bot = await start_bot(support_chat_id=str(OPERATORS))
    emulator.add_user(ALICE, "Alice", "ru")
    emulator.add_user(ADMIN, "Operator")
    emulator.add_group_chat(OPERATORS, "Operators", members=[ADMIN])
    outcome = await buy(emulator, bot, ALICE, "20,00", "Себе")
    for language in ("ru", "en"):
        names = [c["command"] for c in emulator.commands({"type": "default"}, language)]
        assert "paysupport" in names and "terms" in names
    mark = emulator.call_count()
    opened = await say(emulator, ALICE, "/paysupport")
    assert "Поддержка по оплате" in opened.params["text"]
    relayed = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == OPERATORS, after=mark
    )
    assert outcome.telegram_payment_charge_id in relayed.params["text"]
    assert "$20.00" in relayed.params["text"] and "⭐ 1,000" in relayed.params["text"]
    # What the user writes next goes to the same ticket.
    mark = emulator.call_count()
    await emulator.send_text(ALICE, "Я оплатила дважды?")
    await emulator.wait_for_call(
        "sendMessage",
        lambda c: int(c.params["chat_id"]) == OPERATORS and "дважды" in c.params["text"],
        after=mark,
    )
    mark = emulator.call_count()
    await emulator.send_text(ALICE, "/terms")
    terms = await emulator.wait_for_call(
        "sendMessage", lambda c: "Условия продажи" in c.params["text"], after=mark
    )
    assert "Telegram Stars" in terms.params["text"]


async def test_one_invoice_paid_from_two_devices_returns_the_second_charge_once(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    """Both pre-checkouts were answered, so Telegram charged twice: the first charge buys the
    certificate, the second goes back with refundStarPayment, once, however often Telegram
    delivers it, and the payer hears so in their language. The books hold."""
    emulator.add_user(ALICE, "Alice", "ru")
    invoice = await invoice_for(emulator, ALICE, "20,00", "Себе")
    mark = emulator.call_count()
    first, second = await emulator.pay_invoice_twice(ALICE, invoice.result["message_id"])
    assert first.ok and second.ok
    assert first.telegram_payment_charge_id != second.telegram_payment_charge_id
    await bot.settled(emulator)
    await bot.notices_out()

    refunds = [c for c in emulator.calls("refundStarPayment") if c.index >= mark]
    assert [c.params["telegram_payment_charge_id"] for c in refunds] == [
        second.telegram_payment_charge_id
    ]
    said = [
        c.params["text"]
        for c in emulator.calls("sendMessage")
        if c.index >= mark and int(c.params["chat_id"]) == ALICE
    ]
    assert sum("На баланс зачислено" in text for text in said) == 1, said
    returned = [text for text in said if "оплатили один и тот же сертификат дважды" in text]
    assert len(returned) == 1 and "⭐ 1\xa0000" in returned[0], said
    assert not any("could not match" in text or "не удалось сопоставить" in text for text in said)

    # Telegram delivers the second payment again: nothing is refunded or said twice.
    mark = emulator.call_count()
    record = emulator.message(ALICE, second.message_id)
    assert record is not None
    (again,) = [u for u in emulator.update_log() if u["update_id"] == record["update_id"]]
    await emulator.send_raw_update(again)
    await bot.settled(emulator)
    await bot.notices_out()
    assert not [c for c in emulator.calls("refundStarPayment") if c.index >= mark]
    assert not [
        c for c in emulator.calls("sendMessage") if c.index >= mark and "дважды" in c.params["text"]
    ]
    balances = await bot.app.services.ledger.balances(ALICE)
    assert balances.balance == usd(2000) and balances.cashback_available == usd(20)
    await books_balance(bot)
    assert await query(bot.app.db, "SELECT status FROM returned_charges") == [("returned",)]
    # Reconciliation finds both movements accounted for.
    assert (await bot.app.reconciler.run()).problems == []
