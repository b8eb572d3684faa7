"""Quick balance, the language choice and callback safety, end to end over HTTP."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.domain.money import Money
from bot.emulator import BotAPIEmulator
from bot.services.ledger import CASHBACK_EXPENSE, TELEGRAM_PAYMENTS, Account
from tests.conftest import RunningBot, query
from tests.e2e.test_skeleton import answer_to, buttons, say, tap

ALICE = 1001
BORIS = 1002


async def give(bot: RunningBot, user_id: int, balance: int, available: int, pending: int) -> None:
    grants = (
        ("fund", TELEGRAM_PAYMENTS, Account.balance(user_id), balance),
        ("cb-a", CASHBACK_EXPENSE, Account.cashback_available(user_id), available),
        ("cb-p", CASHBACK_EXPENSE, Account.cashback_pending(user_id), pending),
    )
    for name, source, target, minor in grants:
        async with bot.app.db.unit_of_work() as uow:
            await bot.app.services.ledger.transfer(
                uow,
                f"test-{name}:{user_id}",
                "test_grant",
                source,
                target,
                Money(minor, "USD"),
                user_id=user_id,
            )
            if name == "fund":  # the balance is made of certificates
                now = bot.app.clock.now()
                await uow.certificates.add_certificate(user_id, Money(minor, "USD"), "bought", now)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ("Certificates: <b>$1,212.01</b>", "available: <b>$1.60</b>", "pending: $7.40")),
        (
            "ru",
            (
                "Сертификаты: <b>1\xa0212,01\xa0$</b>",
                "доступен: <b>1,60\xa0$</b>",
                "в ожидании: 7,40\xa0$",
            ),
        ),
    ],
)
async def test_balance_button_shows_three_balances_in_the_edited_menu(
    emulator: BotAPIEmulator, bot: RunningBot, language: str, expected: tuple[str, ...]
) -> None:
    emulator.add_user(ALICE, "Alice", language_code=language)
    menu = await say(emulator, ALICE, "/start")
    await give(bot, ALICE, 121201, 160, 740)
    balance_button = buttons(menu)[0][1]
    answer, mark = await tap(emulator, ALICE, menu.result["message_id"], balance_button)
    edit = await emulator.wait_for_call("editMessageText", after=mark)
    for fragment in expected:
        assert fragment in edit.params["text"]
    # Refresh and the main-menu Back button sit under the balance.
    assert [data for _, data in buttons(edit)] == ["m:balance", "m:home"]
    assert emulator.callback_query(answer.params["callback_query_id"])["answered"]
    # Back returns the same message to the menu.
    _, mark = await tap(emulator, ALICE, menu.result["message_id"], "m:home")
    back = await emulator.wait_for_call("editMessageText", after=mark)
    assert len(buttons(back)) == 9


async def test_balance_command_in_english(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice", language_code="en-GB")
    await say(emulator, ALICE, "/start")
    await give(bot, ALICE, 1201, 1, 2)
    reply = await say(emulator, ALICE, "/balance")
    assert "Certificates: <b>$12.01</b>" in reply.params["text"]


async def test_inline_mode_answers_a_personal_uncached_balance(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(BORIS, "Борис", language_code="ru")
    await say(emulator, BORIS, "/start")
    await give(bot, BORIS, 500, 25, 75)
    mark = emulator.call_count()
    query_id = await emulator.send_inline_query(BORIS, "")
    await emulator.wait_for_call("answerInlineQuery", after=mark)
    answered = emulator.inline_query(query_id)
    assert answered["is_personal"] and answered["cache_time"] == 0
    (article,) = answered["results"]
    assert article["title"] == "Баланс: 5,00\xa0$, 1 сертификат"
    assert "Сертификаты: <b>5,00\xa0$</b>" in article["input_message_content"]["message_text"]


async def test_language_choice_sets_the_chat_command_list(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice", language_code="en")
    prompt = await say(emulator, ALICE, "/language")
    _, mark = await tap(emulator, ALICE, prompt.result["message_id"], "lang:ru")
    call = await emulator.wait_for_call("setMyCommands", after=mark)
    scope = call.params["scope"]
    scope = json.loads(scope) if isinstance(scope, str) else scope
    assert scope == {"type": "chat", "chat_id": ALICE}
    commands = call.params["commands"]
    commands = json.loads(commands) if isinstance(commands, str) else commands
    assert {"command": "balance", "description": "Баланс и кешбэк"} in commands
    # Every later message follows the choice, whatever the client says.
    reply = await say(emulator, ALICE, "/balance")
    assert "Сертификаты" in reply.params["text"]
    # And back to English.
    prompt = await say(emulator, ALICE, "/language")
    _, mark = await tap(emulator, ALICE, prompt.result["message_id"], "lang:en")
    edit = await emulator.wait_for_call("editMessageText", after=mark)
    assert "Language set: English." in edit.params["text"]


@pytest.mark.parametrize(("language", "group"), [("en", "Security"), ("ru", "Безопасность")])
async def test_help_lists_every_command_of_the_menu_in_groups(
    emulator: BotAPIEmulator, bot: RunningBot, language: str, group: str
) -> None:
    """/help and setMyCommands stay in step: each registered command, with its description,
    once, in the reader's language."""
    emulator.add_user(ALICE, "Alice", language_code=language)
    reply = await say(emulator, ALICE, "/help")
    text = reply.params["text"]
    registered = emulator.commands({"type": "default"}, language)
    assert len(registered) >= 18
    for command in registered:
        line = f"/{command['command']} — {command['description']}"
        assert text.count(f"/{command['command']} ") == 1 and line in text, line
    listed = re.findall(r"^/([a-z_]+) — ", text, re.MULTILINE)
    assert sorted(listed) == sorted(c["command"] for c in registered)
    assert f"<b>{group}</b>\n/password — " in text


async def test_language_button_in_the_menu(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice")
    menu = await say(emulator, ALICE, "/start")
    _, mark = await tap(emulator, ALICE, menu.result["message_id"], "m:language")
    edit = await emulator.wait_for_call("editMessageText", after=mark)
    assert [text for text, _ in buttons(edit)] == [
        "🇷🇺 Русский",
        "🇬🇧 English",
        "🔔 Notifications",
    ]


async def test_someone_elses_button_gets_an_alert_and_changes_nothing(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BORIS, "Boris")
    menu = await say(emulator, ALICE, "/start")
    await say(emulator, BORIS, "/start")
    users_before = await query(bot.app.db, "SELECT * FROM users ORDER BY id")
    for data in ("m:balance", "lang:ru", "m:language"):
        mark = emulator.call_count()
        # Boris forges a press on a message in Alice's chat.
        query_id = await emulator.send_callback(
            BORIS, data, menu.result["message_id"], chat_id=ALICE
        )
        answer = await answer_to(emulator, query_id, after=mark)
        assert answer.params.get("show_alert") in (True, "true")
    assert not emulator.calls("editMessageText")
    assert await query(bot.app.db, "SELECT * FROM users ORDER BY id") == users_before
    assert emulator.message(ALICE, menu.result["message_id"])["text"].startswith("👋")


async def test_stale_button_on_a_deleted_message(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    mark = emulator.call_count()
    query_id = await emulator.send_callback(ALICE, "lang:xx", 999_999)
    answer = await answer_to(emulator, query_id, after=mark)
    assert "no longer valid" in answer.params["text"]


async def test_many_forged_callbacks_in_one_batch_then_the_bot_still_answers(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    menu = await say(emulator, ALICE, "/start")
    forged = [
        "",
        ":",
        "m:",
        "m:balance:extra",
        "m:BALANCE",
        "lang:",
        "lang:ru:1",
        "\x00",
        "m:🙂",
        "ы" * 32,
        "m:home" + " " * 50,
        "null",
        '{"action":"balance"}',
    ]
    mark = emulator.call_count()
    ids = [await emulator.send_callback(ALICE, data, menu.result["message_id"]) for data in forged]
    for query_id in ids:
        answer = await answer_to(emulator, query_id, after=mark)
        assert "no longer valid" in answer.params["text"]
    assert not emulator.calls("editMessageText")
    reply = await say(emulator, ALICE, "/balance")
    assert "$0.00" in reply.params["text"]


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold?</b> & <script>",
        "\u202eRTL override",
        "🙂" * 100,
        "line\n" * 50,
        "\u200b",
        "/start@other_bot",
        "/",
        "12.01",
    ],
)
async def test_odd_text_gets_a_plain_answer(
    emulator: BotAPIEmulator, bot: RunningBot, text: str
) -> None:
    emulator.add_user(ALICE, "Alice <&>")
    reply = await say(emulator, ALICE, text)
    assert reply.ok
    assert reply.params["text"]


async def test_oversized_text_is_refused_and_the_bot_still_answers(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    reply = await say(emulator, ALICE, "x" * 5000)
    assert "too long" in reply.params["text"]
    reply = await say(emulator, ALICE, "/start")
    assert "Hello" in reply.params["text"]


async def test_html_in_a_name_is_escaped(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "<b>Al</b> & co")
    reply = await say(emulator, ALICE, "/start")
    assert "Hello, <b>&lt;b&gt;Al&lt;/b&gt; &amp; co</b>" in reply.params["text"]


async def test_bad_input_is_answered_and_changes_no_money_and_no_state(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    """Wrong amounts, unknown commands, oversized text, forged and foreign buttons: each gets
    an answer, and the books, the users and the conversations stay exactly as they were."""
    running = await start_bot()
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BORIS, "Boris")
    menu = await say(emulator, ALICE, "/start")
    await say(emulator, BORIS, "/start")
    await give(running, ALICE, 16000, 150, 300)
    tables = ("entries", "postings", "accounts", "users", "fsm_state")
    before = {t: await query(running.app.db, f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    assert len(before["entries"]) == 3

    for text in ("-5", "1e3", "NaN", "12.001", "9" * 40, "/pay_all 100", "x" * 5000):
        reply = await say(emulator, ALICE, text)
        assert reply.ok and reply.params["text"]
    for user, data, chat in (
        (ALICE, "m:transfer_all", ALICE),  # forged data
        (ALICE, "lang:xx", ALICE),  # a language that does not exist
        (BORIS, "m:balance", ALICE),  # Boris presses a button in Alice's chat
    ):
        mark = emulator.call_count()
        query_id = await emulator.send_callback(user, data, menu.result["message_id"], chat_id=chat)
        answer = await answer_to(emulator, query_id, after=mark)
        assert answer.params.get("show_alert") in (True, "true") and answer.params["text"]

    after = {t: await query(running.app.db, f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    assert after == before
    assert await running.app.services.ledger.check_invariants() == []


async def test_a_flood_gets_one_notice_and_the_rest_is_dropped(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    first = emulator.call_count()
    for n in range(45):
        await emulator.send_text(ALICE, f"spam {n}")
    # Telegram would deliver these in one or two batches; wait until all were handled.
    await bot.settled(emulator)
    replies = [c.params["text"] for c in emulator.calls("sendMessage") if c.ok and c.index >= first]
    notices = [text for text in replies if "Too many requests" in text]
    assert len(notices) == 1
    assert 30 <= len(replies) - 1 < 45
    # A person who waits a few seconds is served again.
    waited = time.monotonic() + 5
    bot.app.flood_control.monotonic = lambda: waited
    reply = await say(emulator, ALICE, "/balance")
    assert "Certificates" in reply.params["text"]


async def test_a_payment_message_is_never_throttled(
    emulator: BotAPIEmulator, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    frozen = time.monotonic()
    bot.app.flood_control.monotonic = lambda: frozen  # no refill: the bucket stays empty
    for n in range(35):
        await emulator.send_text(ALICE, f"spam {n}")
    payment = {
        "message": {
            "message_id": 9999,
            "date": 0,
            "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
            "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
            "successful_payment": {
                "currency": "XTR",
                "total_amount": 250,
                "invoice_payload": "demo",
                "telegram_payment_charge_id": "stx-not-throttled",
                "provider_payment_charge_id": "1001_1",
            },
        }
    }
    with caplog.at_level(logging.WARNING, logger="bot.handlers.common"):
        await emulator.send_raw_update(payment)
        await bot.settled(emulator)
    assert "charge_id=stx-not-throttled" in caplog.text
