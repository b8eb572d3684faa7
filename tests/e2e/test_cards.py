"""Saved cards end to end, both backends: the number message is deleted, the card is shown
masked, a forged delete for another user's card does nothing."""

from __future__ import annotations

import logging

import pytest

from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot, query
from tests.e2e.test_security_dialogues import secret
from tests.e2e.test_skeleton import answer_to, buttons, say, tap

ALICE, BORIS = 1001, 1002
NUMBER = "2200 7000 0000 0009"


async def add_card(emulator: BotAPIEmulator, user: int, number: str, expiry: str) -> None:
    screen = await say(emulator, user, "/cards")
    add = dict((data, text) for text, data in buttons(screen))
    assert "card:add:0" in add
    mark = emulator.call_count()
    await tap(emulator, user, screen.result["message_id"], "card:add:0")
    await emulator.wait_for_call("editMessageText", after=mark)
    asked = await secret(emulator, user, number)
    assert "MM/YY" in asked.params["text"] and "•••• 0009" in asked.params["text"]
    await say(emulator, user, expiry)


async def test_add_list_and_delete_a_card(
    emulator: BotAPIEmulator, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.add_user(ALICE, "Alice")
    await add_card(emulator, ALICE, NUMBER, "12/30")
    screen = await say(emulator, ALICE, "/cards")
    assert "Mir •••• 0009  12/30" in screen.params["text"]
    await bot.settled(emulator)
    digits = NUMBER.replace(" ", "")
    for table in ("cards", "fsm_state", "inbox"):
        assert digits not in repr(await query(bot.app.db, f"SELECT * FROM {table}"))
    assert digits not in caplog.text and NUMBER not in caplog.text
    assert not [c for c in emulator.calls("sendMessage") if digits in c.params["text"]]

    delete = next(data for _, data in buttons(screen) if data.startswith("card:delete:"))
    mark = emulator.call_count()
    await tap(emulator, ALICE, screen.result["message_id"], delete)
    confirm = await emulator.wait_for_call("editMessageText", after=mark)
    assert "Delete Mir •••• 0009" in confirm.params["text"]
    yes = next(data for _, data in buttons(confirm) if data.startswith("card:confirm:"))
    mark = emulator.call_count()
    await tap(emulator, ALICE, screen.result["message_id"], yes)
    emptied = await emulator.wait_for_call("editMessageText", after=mark)
    assert "No cards yet" in emptied.params["text"]


async def test_bad_numbers_are_explained_and_the_message_still_deleted(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Алиса", language_code="ru")
    screen = await say(emulator, ALICE, "/cards")
    mark = emulator.call_count()
    await tap(emulator, ALICE, screen.result["message_id"], "card:add:0")
    await emulator.wait_for_call("editMessageText", after=mark)
    typo = await secret(emulator, ALICE, "4111 1111 1111 1112")
    assert "опечатка" in typo.params["text"]
    await secret(emulator, ALICE, NUMBER)
    expired = await say(emulator, ALICE, "01/20")
    assert "истёк" in expired.params["text"]


async def test_a_forged_delete_for_another_users_card_does_nothing(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BORIS, "Boris")
    await add_card(emulator, ALICE, NUMBER, "12/30")
    card_id = (await query(bot.app.db, "SELECT id FROM cards"))[0][0]
    boris = await say(emulator, BORIS, "/cards")
    for step in ("delete", "confirm"):
        mark = emulator.call_count()
        query_id = await emulator.send_callback(
            BORIS, f"card:{step}:{card_id}", boris.result["message_id"]
        )
        answer = await answer_to(emulator, query_id, after=mark)
        assert answer.params.get("show_alert") in (True, "true")
        assert "no longer valid" in answer.params["text"]
    assert await query(bot.app.db, "SELECT COUNT(*) FROM cards") == [(1,)]
