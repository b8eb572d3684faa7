"""Gift codes between people through the real bot, on both backends: bought as a gift, shared
through inline mode, claimed by link once, and given from the balance with the password."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.money import Money
from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot
from tests.e2e.test_certificates import button_data, buy, open_buy
from tests.e2e.test_security_dialogues import ANSWERS, PASSWORD, secret, set_up
from tests.e2e.test_skeleton import say, tap

ALICE, BOB, CAROL = 1001, 1002, 1003
LINK = re.compile(r"https://t\.me/giftwallet_bot\?start=gift_([a-z2-7]{16})")


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def markup_of(call: Any) -> list[dict[str, Any]]:
    import json

    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [button for row in markup.get("inline_keyboard", []) for button in row]


async def buy_gift(emulator: BotAPIEmulator, bot: RunningBot, note: str | None) -> Any:
    screen = await open_buy(emulator, ALICE)
    message_id = screen.result["message_id"]
    await tap(emulator, ALICE, message_id, button_data(screen, "$20"))
    picked = await emulator.wait_for_call("editMessageText", after=screen.index)
    await tap(emulator, ALICE, message_id, button_data(picked, "As a gift"))
    prompt = await emulator.wait_for_call("editMessageText", after=picked.index + 1)
    assert "note for the recipient" in prompt.params["text"]
    mark = emulator.call_count()
    if note is None:
        await tap(emulator, ALICE, message_id, button_data(prompt, "Skip"))
    else:
        await emulator.send_text(ALICE, note)
    invoice = await emulator.wait_for_call("sendInvoice", after=mark)
    assert invoice.params["title"] == "Gift code for $20.00"
    mark = emulator.call_count()
    assert (await emulator.pay_invoice(ALICE, invoice.result["message_id"])).ok
    ready = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == ALICE, after=mark
    )
    await bot.settled(emulator)
    return ready


async def test_a_gift_bought_in_stars_is_claimed_once_by_link(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    for user, name, language in (
        (ALICE, "Alice", "en"),
        (BOB, "Bob", "ru"),
        (CAROL, "Carol", "en"),
    ):
        emulator.add_user(user, name, language)
    ready = await buy_gift(emulator, bot, "Happy birthday, <Bob>!")
    found = LINK.search(ready.params["text"])
    assert found is not None, ready.params["text"]
    code = found.group(1)
    share = next(b for b in markup_of(ready) if "switch_inline_query" in b)
    assert share["switch_inline_query"] == f"gift_{code}"
    copy = next(b for b in markup_of(ready) if "copy_text" in b)
    assert copy["copy_text"]["text"].endswith(f"?start=gift_{code}")
    assert (await bot.app.services.ledger.balances(ALICE)).balance == usd(0)
    assert (await bot.app.services.ledger.balances(ALICE)).cashback_available == usd(20)

    # Share: the giver's inline query gets the gift card; anyone else's gets nothing.
    mark = emulator.call_count()
    query_id = await emulator.send_inline_query(ALICE, f"gift_{code}")
    await emulator.wait_for_call("answerInlineQuery", after=mark)
    (card,) = emulator.inline_query(query_id)["results"]
    assert "$20.00" in card["input_message_content"]["message_text"]
    assert "Happy birthday, &lt;Bob&gt;!" in card["input_message_content"]["message_text"]
    mark = emulator.call_count()
    stranger = await emulator.send_inline_query(CAROL, f"gift_{code}")
    await emulator.wait_for_call("answerInlineQuery", after=mark)
    assert emulator.inline_query(stranger)["results"] == []

    own = await say(emulator, ALICE, f"/start gift_{code}")
    assert "your own gift" in own.params["text"]
    claimed = await say(emulator, BOB, f"/start gift_{code}")
    assert "подарок зачислен" in claimed.params["text"] and "20,00" in claimed.params["text"]
    late = await say(emulator, CAROL, f"/start gift_{code}")
    assert "already been claimed" in late.params["text"]
    wrong = await say(emulator, CAROL, "/start gift_aaaaaaaaaaaaaaaa")
    assert "not valid" in wrong.params["text"] and "9 tries left" in wrong.params["text"]

    assert (await bot.app.services.ledger.balances(BOB)).balance == usd(2000)
    assert (await bot.app.services.ledger.balances(CAROL)).balance == usd(0)
    assert await bot.app.services.ledger.check_invariants() == []
    assert await bot.app.services.certificates.drift() == []


async def test_giving_from_the_balance_needs_the_password(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BOB, "Bob")
    await set_up(emulator, ALICE, ANSWERS)
    await buy(emulator, bot, ALICE, "$10")
    await buy(emulator, bot, ALICE, "$20")
    screen = await open_buy(emulator, ALICE)
    await tap(emulator, ALICE, screen.result["message_id"], button_data(screen, "Gift from my"))
    too_much = await say(emulator, ALICE, "31")
    assert "Not enough money" in too_much.params["text"]
    note_prompt = await say(emulator, ALICE, "15")
    assert "note for the recipient" in note_prompt.params["text"]
    mark = emulator.call_count()
    await tap(emulator, ALICE, note_prompt.result["message_id"], button_data(note_prompt, "Skip"))
    await emulator.wait_for_call(
        "sendMessage", lambda c: "payment password" in c.params["text"], after=mark
    )
    assert (await bot.app.services.ledger.balances(ALICE)).balance == usd(3000)  # not yet
    wrong = await secret(emulator, ALICE, "not-my-password")
    assert "Wrong payment password" in wrong.params["text"]
    ready = await secret(emulator, ALICE, PASSWORD)
    found = LINK.search(ready.params["text"])
    assert found is not None, ready.params["text"]
    assert (await bot.app.services.ledger.balances(ALICE)).balance == usd(1500)
    # The oldest certificate went first: $10 spent, $5 of the $20 one.
    page = await bot.app.services.certificates.page(ALICE, 0)
    assert [(c.nominal.minor, c.remaining.minor) for c in page.page.items] == [
        (2000, 1500),
        (1000, 0),
    ]

    claimed = await say(emulator, BOB, f"/start gift_{found.group(1)}")
    assert "$15.00" in claimed.params["text"]
    assert await bot.app.services.ledger.check_invariants() == []
    assert await bot.app.services.certificates.drift() == []
