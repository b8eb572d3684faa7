"""The payment-password dialogues end to end, in both languages and on both backends: set-up,
change, recovery, the lockout; every secret message deleted, no secret stored anywhere."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.domain.clock import ShiftedClock
from bot.emulator import BotAPIEmulator, Call
from tests.conftest import RunningBot, query
from tests.e2e.test_skeleton import buttons, say, tap

ALICE = 1001
PASSWORD, NEW_PASSWORD = "Gift-Wallet-42", "Brand-New-77"
ANSWERS = ("Москва", "Барсик", "Школа 57")


async def secret(emulator: BotAPIEmulator, user: int, text: str) -> Call:
    """Type a secret; return the bot's reply, after checking the message was deleted."""
    mark = emulator.call_count()
    sent = await emulator.send_text(user, text)
    reply = await emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == user, after=mark
    )
    deletions = [
        c
        for c in emulator.calls("deleteMessage")
        if c.index >= mark and int(c.params["message_id"]) == sent["message_id"]
    ]
    assert deletions and deletions[0].ok, f"the message carrying {text!r} was not deleted"
    return reply


async def set_up(emulator: BotAPIEmulator, user: int, answers: tuple[str, ...]) -> Call:
    await say(emulator, user, "/password")
    await secret(emulator, user, PASSWORD)
    picker = await secret(emulator, user, PASSWORD)
    for number, answer in enumerate(answers):
        question = next(data for _, data in buttons(picker) if data.startswith("q:"))
        await tap(emulator, user, picker.result["message_id"], question)
        picker = await secret(emulator, user, answer)
        if number < len(answers) - 1:
            assert len([d for _, d in buttons(picker) if d.startswith("q:")]) == 9 - number - 1
    return picker


async def test_set_up_in_english_with_a_weak_try_and_a_mismatch(
    emulator: BotAPIEmulator, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.add_user(ALICE, "Alice")
    intro = await say(emulator, ALICE, "/password")
    assert "not</b> your Telegram password" in intro.params["text"]
    weak = await secret(emulator, ALICE, "123456")
    assert "run like 123456" in weak.params["text"]
    named = await secret(emulator, ALICE, "alice2024")
    assert "own name" in named.params["text"]
    await secret(emulator, ALICE, PASSWORD)
    mismatch = await secret(emulator, ALICE, "Something-Else-9")
    assert "differ" in mismatch.params["text"]
    done = await set_up(emulator, ALICE, ("Rex", "Paris", "School 5"))
    assert "password and three security questions are set" in done.params["text"]
    assert await bot.app.services.security.has_password(ALICE)
    await bot.settled(emulator)

    # No secret anywhere: not in the tables, not in the conversation state, not in the logs.
    secrets = (PASSWORD, "Something-Else-9", "Rex", "Paris", "School 5", "rex", "paris")
    for table in ("security", "fsm_state", "users", "entries"):
        dump = repr(await query(bot.app.db, f"SELECT * FROM {table}"))
        assert not [s for s in secrets if s in dump], table
    assert not [s for s in secrets if s in caplog.text]
    # The inbox forgets a raw update once it is handled.
    inbox = repr(await query(bot.app.db, "SELECT payload FROM inbox"))
    assert not [s for s in secrets if s in inbox]


async def test_russian_set_up_then_recovery_with_answers_in_other_case_and_spacing(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Алиса", language_code="ru")
    intro = await say(emulator, ALICE, "/password")
    assert "не</b> пароль от Telegram" in intro.params["text"]
    done = await set_up(emulator, ALICE, ANSWERS)
    assert "заданы" in done.params["text"]

    first = await say(emulator, ALICE, "/recover")
    assert "Вопрос 1 из 3" in first.params["text"]
    await secret(emulator, ALICE, "  МОСКВА ")
    await secret(emulator, ALICE, "барсик")
    passed = await secret(emulator, ALICE, "школа   57")
    assert "Ответы совпали" in passed.params["text"]
    await secret(emulator, ALICE, NEW_PASSWORD)
    changed = await secret(emulator, ALICE, NEW_PASSWORD)
    assert "изменён" in changed.params["text"]
    await bot.app.services.security.verify_password(ALICE, NEW_PASSWORD)


async def test_a_wrong_answer_is_not_named_and_counts(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    await set_up(emulator, ALICE, ANSWERS)
    await say(emulator, ALICE, "/recover")
    await secret(emulator, ALICE, "Москва")
    await secret(emulator, ALICE, "Мурзик")  # wrong, and the bot goes on regardless
    failed = await secret(emulator, ALICE, "Школа 57")
    # The one message for any wrong answer: it never names the question.
    t = bot.app.i18n("en")
    assert failed.params["text"] == t("error-wrong-answers", attempts_left=4)


async def test_change_password_and_the_lockout_on_the_injected_clock(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    clock = ShiftedClock()
    running: RunningBot = await start_bot(clock=clock)
    emulator.add_user(ALICE, "Alice")
    menu = await set_up(emulator, ALICE, ANSWERS)
    screen = await say(emulator, ALICE, "/password")
    assert "is set" in screen.params["text"]
    mark = emulator.call_count()
    await tap(emulator, ALICE, screen.result["message_id"], "sec:change")
    await emulator.wait_for_call("editMessageText", after=mark)
    for left in (4, 3, 2, 1):
        wrong = await secret(emulator, ALICE, "not-my-password")
        assert f"Tries left before a lock: {left}" in wrong.params["text"]
    locked = await secret(emulator, ALICE, "not-my-password")
    assert "locked until" in locked.params["text"] and "/support" in locked.params["text"]
    assert "(in 15 minutes)" in locked.params["text"]  # how long, from now, beside the time
    assert re.search(r"until [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}", locked.params["text"])
    still = await secret(emulator, ALICE, PASSWORD)  # even the right one, while locked
    assert "locked until" in still.params["text"]
    clock.advance(timedelta(minutes=15))
    asked = await secret(emulator, ALICE, PASSWORD)
    assert "new payment password" in asked.params["text"]
    await secret(emulator, ALICE, NEW_PASSWORD)
    changed = await secret(emulator, ALICE, NEW_PASSWORD)
    assert "changed" in changed.params["text"]
    await running.app.services.security.verify_password(ALICE, NEW_PASSWORD)
    del menu


async def test_each_step_says_what_it_expects_and_cancel_leaves(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/password")
    # A command typed while the bot waits for the password leaves that step and runs.
    shop = await say(emulator, ALICE, "/shop")
    assert "Pick a category" in shop.params["text"]
    assert not emulator.calls("deleteMessage")  # a command is not a secret
    typed = await say(emulator, ALICE, "Gift-Wallet-42")
    assert typed.params["text"] == bot.app.i18n("en")("unknown-text")
    assert not emulator.calls("deleteMessage")
    intro = await say(emulator, ALICE, "/password")
    hint = await say(emulator, ALICE, "/nonsense")
    assert "Unknown command" in hint.params["text"]
    intro = await say(emulator, ALICE, "/password")
    mark = emulator.call_count()
    await tap(emulator, ALICE, intro.result["message_id"], "sec:cancel")
    await emulator.wait_for_call("editMessageText", after=mark)
    reply = await say(emulator, ALICE, "Gift-Wallet-42")
    assert reply.params["text"] == bot.app.i18n("en")("unknown-text")
    assert not await bot.app.services.security.has_password(ALICE)
    assert not [c for c in emulator.calls("deleteMessage") if c.index >= mark]


async def test_privacy_says_what_is_never_stored(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice")
    reply = await say(emulator, ALICE, "/privacy")
    assert "never a CVV" in reply.params["text"]


async def test_only_the_newest_prompt_keeps_its_cancel_button(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    intro = await say(emulator, ALICE, "/password")
    repeat = await secret(emulator, ALICE, PASSWORD)
    assert "same password" in repeat.params["text"]
    await bot.settled(emulator)

    def markup(call: Call) -> Any:
        record = emulator.message(ALICE, call.result["message_id"])
        assert record is not None
        return record["reply_markup"]

    assert markup(intro) is None  # the earlier step's Cancel is gone
    assert "Cancel" in str(markup(repeat))
    # A command leaves the dialogue: its last prompt loses Cancel too.
    await say(emulator, ALICE, "/balance")
    await bot.settled(emulator)
    assert markup(repeat) is None
