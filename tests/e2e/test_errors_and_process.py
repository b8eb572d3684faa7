"""The error router, and the real `python -m bot` process: start-up and a clean SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import BotAPIEmulator
from tests.conftest import TOKEN, RunningBot, spawn_bot_process
from tests.e2e.test_skeleton import answer_to, buttons, say

ALICE = 1001


async def _explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("disk on fire")


async def test_unexpected_error_is_logged_and_user_hears_nothing_was_charged(
    emulator: BotAPIEmulator,
    bot: RunningBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    emulator.add_user(ALICE, "Alice")
    menu = await say(emulator, ALICE, "/start")
    monkeypatch.setattr(bot.app.services.cashback, "wallet", _explode)

    with caplog.at_level(logging.ERROR, logger="bot.handlers.errors"):
        reply = await say(emulator, ALICE, "/balance")
        assert "Something went wrong" in reply.params["text"]
        assert "Nothing was charged" in reply.params["text"]

        # On a button the same fault becomes an alert, and the button stops spinning.
        mark = emulator.call_count()
        query_id = await emulator.press_button(
            ALICE, menu.result["message_id"], dict(buttons(menu))["💰 Balance"]
        )
        answer = await answer_to(emulator, query_id, after=mark)
        assert answer.params.get("show_alert") in (True, "true")
        assert "Something went wrong" in answer.params["text"]

    failures = [r for r in caplog.records if "event=handler_failed" in r.getMessage()]
    assert len(failures) == 2
    assert f"user_id={ALICE}" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert TOKEN not in caplog.text

    # The bot is still healthy afterwards.
    monkeypatch.undo()
    reply = await say(emulator, ALICE, "/balance")
    assert "$0.00" in reply.params["text"]


async def test_russian_user_gets_the_error_in_russian(
    emulator: BotAPIEmulator, bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.add_user(ALICE, "Алиса", language_code="ru")
    monkeypatch.setattr(bot.app.services.cashback, "wallet", _explode)
    reply = await say(emulator, ALICE, "/balance")
    assert "Деньги не списаны" in reply.params["text"]


async def test_real_process_answers_and_stops_within_5s_on_sigterm(
    emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    mark = emulator.call_count()
    process = await spawn_bot_process(emulator, tmp_path)
    try:
        await emulator.wait_for_call("getUpdates", after=mark, timeout=30)
        emulator.add_user(ALICE, "Alice")
        reply = await say(emulator, ALICE, "/start")
        assert "Hello, <b>Alice</b>" in reply.params["text"]

        loop = asyncio.get_running_loop()
        began = loop.time()
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
        elapsed = loop.time() - began
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert elapsed < 5, f"shutdown took {elapsed:.1f}s"
    assert "event=stopped" in log
    assert TOKEN.split(":")[1] not in log
    assert (tmp_path / "data" / "giftwallet.sqlite3").exists()


async def test_a_rejected_token_is_one_clear_line(emulator: BotAPIEmulator, tmp_path: Path) -> None:
    process = await spawn_bot_process(
        emulator,
        tmp_path,
        BOT_TOKEN="999999:a-token-the-server-does-not-know-at-all",
        LOG_LEVEL="WARNING",
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 1
    assert lines == [
        "error: the Bot API rejected BOT_TOKEN (Unauthorized): check it with @BotFather"
    ]


async def test_a_replayed_button_press_is_quietly_idempotent(
    emulator: BotAPIEmulator, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A restart re-delivers the last update: answering its callback again is "query is too
    old", and editing to the same text is "message is not modified". Both are benign."""
    emulator.add_user(ALICE, "Alice")
    menu = await say(emulator, ALICE, "/start")
    query_id = await emulator.press_button(
        ALICE, menu.result["message_id"], dict(buttons(menu))["💰 Balance"]
    )
    first = await answer_to(emulator, query_id)
    original = next(u for u in emulator.update_log() if "callback_query" in u)
    with caplog.at_level(logging.DEBUG):
        mark = emulator.call_count()
        await emulator.send_raw_update({"callback_query": original["callback_query"]})
        again = await answer_to(emulator, query_id, after=first.index + 1)
        assert again.error_code == 400
        reply = await say(emulator, ALICE, "/help")  # handled after the replay: same chat lane
    assert "Giftwallet" in reply.params["text"]
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert failures == [], [r.getMessage() for r in failures]
    sent_after = [c for c in emulator.calls("sendMessage") if c.index >= mark]
    assert all("Something went wrong" not in c.params["text"] for c in sent_after)
