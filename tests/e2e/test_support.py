"""Support relay both ways and the operators' password reset, on both backends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot, query
from tests.e2e.test_security_dialogues import ANSWERS, set_up
from tests.e2e.test_skeleton import say

ALICE, OLGA, MALLORY = 1001, 900, 1003
OPERATORS = -1001000000001


async def support_bot(emulator: BotAPIEmulator, start_bot: Callable[..., Any]) -> RunningBot:
    running: RunningBot = await start_bot(support_chat_id=OPERATORS, admin_ids=frozenset({OLGA}))
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(OLGA, "Olga", language_code="ru")
    emulator.add_user(MALLORY, "Mallory")
    emulator.add_group_chat(OPERATORS, "Operators", members=[OLGA])
    return running


def to_chat(chat: int) -> Callable[[Any], bool]:
    return lambda c: int(c.params["chat_id"]) == chat


async def test_a_ticket_relays_both_ways_and_closes(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    running = await support_bot(emulator, start_bot)
    opened = await say(emulator, ALICE, "/support")
    assert "ticket #1" in opened.params["text"]
    mark = emulator.call_count()
    await emulator.send_text(ALICE, "My order <b>never</b> came")
    relayed = await emulator.wait_for_call("sendMessage", to_chat(OPERATORS), after=mark)
    assert "#1" in relayed.params["text"] and str(ALICE) in relayed.params["text"]
    assert "&lt;b&gt;never&lt;/b&gt;" in relayed.params["text"]  # the user's text, escaped
    ack = await emulator.wait_for_call("sendMessage", to_chat(ALICE), after=mark)
    assert "Sent to support" in ack.params["text"]
    await running.notices_out()  # the relay's message id is recorded once it is marked sent

    mark = emulator.call_count()
    await emulator.send_text(
        OLGA,
        "Sorry! Refunded.",
        chat_id=OPERATORS,
        reply_to_message_id=relayed.result["message_id"],
    )
    answer = await emulator.wait_for_call("sendMessage", to_chat(ALICE), after=mark)
    assert "Support (ticket #1)" in answer.params["text"] and "Refunded" in answer.params["text"]
    delivered = await emulator.wait_for_call("sendMessage", to_chat(OPERATORS), after=mark)
    assert "Sent to ticket #1" in delivered.params["text"]  # DEFAULT_LOCALE there
    mark = emulator.call_count()
    closed = await say(emulator, ALICE, "/close")
    assert "Ticket #1 is closed" in closed.params["text"]
    # A reply to a closed ticket reaches nobody.
    mark = emulator.call_count()
    await emulator.send_text(
        OLGA, "Anything else?", chat_id=OPERATORS, reply_to_message_id=relayed.result["message_id"]
    )
    refused = await emulator.wait_for_call("sendMessage", to_chat(OPERATORS), after=mark)
    assert not [c for c in emulator.calls("sendMessage") if c.index >= mark and to_chat(ALICE)(c)]
    assert refused.params["text"]
    await running.settled(emulator)


async def test_long_messages_are_relayed_whole_or_refused_with_their_length(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any]
) -> None:
    running = await support_bot(emulator, start_bot)
    await say(emulator, ALICE, "/support")
    long_text = "Где мой заказ? " * 200  # 3,000 characters: more than Fluent takes in one go
    mark = emulator.call_count()
    await emulator.send_text(ALICE, long_text)
    relayed = await emulator.wait_for_call("sendMessage", to_chat(OPERATORS), after=mark)
    assert long_text.strip() in relayed.params["text"] and "{???}" not in relayed.params["text"]
    ack = await emulator.wait_for_call("sendMessage", to_chat(ALICE), after=mark)
    assert "Sent to support" in ack.params["text"]

    too_long = "x" * 3900
    mark = emulator.call_count()
    await emulator.send_text(ALICE, too_long)
    refused = await emulator.wait_for_call("sendMessage", to_chat(ALICE), after=mark)
    assert "Not sent" in refused.params["text"] and "3,900" in refused.params["text"]
    await running.settled(emulator)
    assert not [
        c for c in emulator.calls("sendMessage") if c.index >= mark and to_chat(OPERATORS)(c)
    ]


async def test_an_admin_resets_a_password_and_a_stranger_cannot(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    running = await support_bot(emulator, start_bot)
    await set_up(emulator, ALICE, ANSWERS)
    with caplog.at_level(logging.WARNING):
        refused = await say(emulator, MALLORY, f"/admin_reset_password {ALICE}")
    assert refused.params["text"] == running.app.i18n("en")("unknown-command")
    assert f"event=admin_command_refused user_id={MALLORY}" in caplog.text
    assert await running.app.services.security.has_password(ALICE)

    mark = emulator.call_count()
    done = await say(emulator, OLGA, f"/admin_reset_password {ALICE}")
    assert str(ALICE) in done.params["text"]
    notice = await emulator.wait_for_call("sendMessage", to_chat(ALICE), after=mark)
    assert "/password" in notice.params["text"]
    assert not await running.app.services.security.has_password(ALICE)
    audit = await query(running.app.db, "SELECT actor_id, user_id, action FROM security_audit")
    assert audit == [(OLGA, ALICE, "reset_password")]
    # Alice sets a new one, from the start.
    intro = await say(emulator, ALICE, "/password")
    assert "not</b> your Telegram password" in intro.params["text"]
