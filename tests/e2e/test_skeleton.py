"""The walking skeleton end to end: the real bot over HTTP against the Bot API emulator."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot, query

ALICE = 1001
BORIS = 1002


def buttons(call: Any) -> list[tuple[str, str]]:
    """(text, callback_data) of every inline button in a recorded send/edit call."""
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        (button["text"], button.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]


async def say(
    emulator: BotAPIEmulator, user_id: int, text: str, method: str = "sendMessage"
) -> Any:
    mark = emulator.call_count()
    await emulator.send_text(user_id, text)
    return await emulator.wait_for_call(
        method, lambda c: int(c.params["chat_id"]) == user_id, after=mark
    )


async def answer_to(emulator: BotAPIEmulator, query_id: str, after: int = 0) -> Any:
    """The bot's answerCallbackQuery for this query."""
    return await emulator.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id, after=after
    )


async def tap(emulator: BotAPIEmulator, user_id: int, message_id: int, data: str) -> Any:
    """Press a button and return the bot's callback answer call."""
    mark = emulator.call_count()
    query_id = await emulator.press_button(user_id, message_id, data)
    return await answer_to(emulator, query_id, after=mark), mark


async def test_start_shows_greeting_and_menu(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice", language_code="en")
    reply = await say(emulator, ALICE, "/start")
    assert "Hello, <b>Alice</b>" in reply.params["text"]
    labels = [text for text, _ in buttons(reply)]
    assert labels == [
        "💰 Balance",
        "🛍 Shop",
        "🎁 Buy certificate",
        "📦 Orders",
        "💸 Cashback",
        "💳 Cards",
        "🔐 Security",
        "💬 Support",
        "🌐 Language",
    ]
    user = await bot.app.services.users.get(ALICE)
    assert user is not None and user.client_language == "en"


async def test_start_twice_registers_once(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    await say(emulator, ALICE, "/start")
    rows = await query(bot.app.db, "SELECT id FROM users")
    assert [r[0] for r in rows] == [ALICE]
    accounts = await query(bot.app.db, "SELECT kind FROM accounts WHERE user_id = $1", ALICE)
    assert sorted(r[0] for r in accounts) == [
        "balance",
        "cashback_available",
        "cashback_pending",
    ]


async def test_russian_client_gets_russian(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(BORIS, "Борис", language_code="ru")
    reply = await say(emulator, BORIS, "/start")
    assert "Здравствуйте, <b>Борис</b>" in reply.params["text"]
    assert buttons(reply)[0][0] == "💰 Баланс"


async def test_balance_button_edits_in_place(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice")
    menu = await say(emulator, ALICE, "/start")
    menu_id = menu.result["message_id"]
    balance_data = dict(buttons(menu))["💰 Balance"]
    answer, mark = await tap(emulator, ALICE, menu_id, balance_data)
    edit = await emulator.wait_for_call("editMessageText", after=mark)
    assert int(edit.params["message_id"]) == menu_id
    assert "Certificates: <b>$0.00</b>" in edit.params["text"]
    assert "Cashback available: <b>$0.00</b>" in edit.params["text"]
    assert answer.ok
    # Edited in place: still one bot message in the chat, now showing the balance.
    bot_messages = [m for m in emulator.messages(ALICE) if m["from_bot"]]
    assert len(bot_messages) == 1 and "Certificates" in bot_messages[0]["text"]
    # Refresh with nothing changed: Telegram says "not modified", the user sees no error.
    refresh = dict(buttons(edit))["🔄 Refresh"]
    answer, _ = await tap(emulator, ALICE, menu_id, refresh)
    assert answer.ok and not answer.params.get("show_alert")


async def test_balance_command(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(BORIS, "Борис", language_code="ru")
    reply = await say(emulator, BORIS, "/balance")
    assert "Сертификаты: <b>0,00\xa0$</b>" in reply.params["text"]


async def test_language_choice_persists_across_restart(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    first = await start_bot()
    emulator.add_user(ALICE, "Alice", language_code="en")
    prompt = await say(emulator, ALICE, "/language")
    russian = dict(buttons(prompt))["🇷🇺 Русский"]
    _, mark = await tap(emulator, ALICE, prompt.result["message_id"], russian)
    edit = await emulator.wait_for_call("editMessageText", after=mark)
    assert "Язык: русский" in edit.params["text"]
    await first.stop()

    await start_bot()
    mark = emulator.call_count()
    await emulator.send_text(ALICE, "/start")
    # A restart may replay an update the first run had handled but not yet marked done (the
    # language prompt again, harmlessly); the greeting is what this test is about.
    reply = await emulator.wait_for_call(
        "sendMessage", lambda c: "Здравствуйте" in c.params["text"], after=mark
    )
    assert int(reply.params["chat_id"]) == ALICE


async def test_unknown_text_and_command(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice")
    reply = await say(emulator, ALICE, "what is this?")
    assert "didn't understand" in reply.params["text"]
    reply = await say(emulator, ALICE, "/frobnicate")
    assert "Unknown command" in reply.params["text"]


async def test_forged_callback_gets_alert_and_changes_nothing(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    menu = await say(emulator, ALICE, "/start")
    before = await query(bot.app.db, "SELECT * FROM users")
    for data in ("m:withdraw_all", "lang:xx", "garbage", "m:" + "x" * 60, "order:999:pay"):
        mark = emulator.call_count()
        query_id = await emulator.send_callback(ALICE, data, menu.result["message_id"])
        answer = await answer_to(emulator, query_id, after=mark)
        assert answer.params.get("show_alert") in (True, "true")
        assert "no longer valid" in answer.params["text"]
    assert await query(bot.app.db, "SELECT * FROM users") == before
    assert not emulator.calls("editMessageText")


async def test_every_main_menu_button_opens_its_screen(
    emulator: BotAPIEmulator, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.add_user(ALICE, "Alice")
    for label, data in buttons(await say(emulator, ALICE, "/start")):
        menu = await say(emulator, ALICE, "/start")  # a fresh menu: each screen replaces it
        caplog.clear()
        answer, mark = await tap(emulator, ALICE, menu.result["message_id"], data)
        failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert not failures, f"{label}: {failures}"
        assert answer.params.get("show_alert") not in (True, "true"), label
        screen = [
            c
            for c in emulator.calls()[mark:]
            if c.method in ("editMessageText", "sendMessage") and c.ok
        ]
        assert screen, f"{label} showed nothing"
        assert screen[0].params["text"] != menu.params["text"], label


async def test_cancel_without_state(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice")
    reply = await say(emulator, ALICE, "/cancel")
    assert "nothing to cancel" in reply.params["text"]


async def test_startup_registers_commands_in_both_languages(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    calls = emulator.calls("setMyCommands")
    languages = {c.params.get("language_code") for c in calls}
    assert {"ru", "en", None} <= languages
    assert emulator.calls("deleteWebhook")[0].params.get("drop_pending_updates") in (
        False,
        "false",
        None,
    )


async def test_updates_sent_before_start_are_not_dropped(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    emulator.add_user(ALICE, "Alice")
    await emulator.send_text(ALICE, "/start")
    assert not emulator.calls("sendMessage")
    await start_bot()
    greeting = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == ALICE
    )
    assert "Hello, <b>Alice</b>" in greeting.params["text"]


async def test_clean_shutdown_is_fast_and_closes_everything(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    running = await start_bot()
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    loop = asyncio.get_running_loop()
    began = loop.time()
    await running.stop()
    assert loop.time() - began < 5
    assert not running.app.scheduler.running
    assert not running.app.db.connected
    # The handled update was confirmed on the way out, so a restart does not see it again.
    assert emulator.pending_updates() == 0


async def test_conversation_state_survives_a_restart(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    from aiogram.fsm.storage.base import StorageKey

    first = await start_bot()
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    # Handled and marked so: a restart does not answer this /start a second time.
    await first.settled(emulator)
    key = StorageKey(bot_id=first.app.bot.id, chat_id=ALICE, user_id=ALICE)
    await first.app.dispatcher.storage.set_state(key, "Demo:waiting")
    await first.stop()

    second = await start_bot()
    assert await second.app.dispatcher.storage.get_state(key) == "Demo:waiting"
    reply = await say(emulator, ALICE, "/cancel")
    assert "Cancelled" in reply.params["text"]
    assert await second.app.dispatcher.storage.get_state(key) is None
