"""Webhook mode at its edge: the secret, malformed bodies, storage outages, the probes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.emulator import BotAPIEmulator
from bot.storage.errors import StorageUnavailable
from tests.conftest import WEBHOOK_SECRET, RunningBot, query
from tests.e2e.test_skeleton import say

ANNA = 3101
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
async def hook(start_bot: Callable[..., Any]) -> RunningBot:
    running: RunningBot = await start_bot(webhook=True)
    return running


def message_update(update_id: int, user_id: int = ANNA, text: str = "/start") -> dict[str, Any]:
    person = {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Anna"},
            "from": person,
            "text": text,
        },
    }


async def post(url: str, body: bytes, secret: str | None = WEBHOOK_SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, data=body, headers=headers) as response,
    ):
        return response.status


async def stored(hook: RunningBot) -> list[tuple[Any, ...]]:
    return await query(hook.app.db, "SELECT update_id FROM inbox ORDER BY update_id")


async def test_a_conversation_runs_over_the_webhook(
    emulator: BotAPIEmulator, hook: RunningBot
) -> None:
    setup = emulator.calls("setWebhook")[-1].params
    assert setup["url"] == "https://giftwallet.example/telegram/hook"
    assert setup["secret_token"] == WEBHOOK_SECRET
    assert "callback_query" in setup["allowed_updates"]
    assert setup.get("drop_pending_updates") in (None, False, "false")
    assert not emulator.calls("getUpdates"), "webhook mode never polls"

    emulator.add_user(ANNA, "Anna", language_code="en")
    reply = await say(emulator, ANNA, "/start")
    assert "Hello, <b>Anna</b>" in reply.params["text"]
    posts = emulator.posts()
    assert posts and all(p.outcome == 200 for p in posts)


@pytest.mark.parametrize("secret", [None, "", "webhook-secret_for-testz", WEBHOOK_SECRET + "x"])
async def test_a_wrong_or_missing_secret_gets_401_and_stores_nothing(
    hook: RunningBot, secret: str | None
) -> None:
    status = await post(hook.webhook_target, json.dumps(message_update(7)).encode(), secret)
    assert status == 401
    assert await stored(hook) == []


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"update_id": "7"}', b"\xff\xfe", b'{"message": {}}'],
)
async def test_a_malformed_body_gets_400_and_stores_nothing(hook: RunningBot, body: bytes) -> None:
    status = await post(hook.webhook_target, body)
    assert status == 400
    assert await stored(hook) == []


async def test_the_same_update_twice_is_stored_once(hook: RunningBot) -> None:
    body = json.dumps(message_update(9_000_001)).encode()
    assert await post(hook.webhook_target, body) == 200
    assert await post(hook.webhook_target, body) == 200
    assert await stored(hook) == [(9_000_001,)]


async def test_a_storage_outage_gets_503_and_telegram_retries_until_stored(
    emulator: BotAPIEmulator, hook: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.webhook_first_retry = 0.05
    accept = hook.app.inbox.accept
    refusals = 0

    async def failing_accept(updates: Any) -> int | None:
        nonlocal refusals
        if refusals < 3:
            refusals += 1
            raise StorageUnavailable("the database is restarting")
        return await accept(updates)

    monkeypatch.setattr(hook.app.inbox, "accept", failing_accept)
    emulator.add_user(ANNA, "Anna", language_code="en")
    reply = await say(emulator, ANNA, "/start")
    assert "Hello, <b>Anna</b>" in reply.params["text"]
    outcomes = [p.outcome for p in emulator.posts()]
    assert outcomes == [503, 503, 503, 200]
    info = emulator.webhook()
    assert info["url"]


async def test_health_and_readiness(hook: RunningBot) -> None:
    base = hook.webhook_target.rsplit("/telegram/hook", 1)[0]
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/healthz") as response:
            assert response.status == 200
        async with client.get(f"{base}/readyz") as response:
            report = await response.json()
            assert response.status == 200, report
    assert report["database"] == "ok"
    assert report["oldest_pending_seconds"] == 0.0


async def test_readiness_fails_while_the_database_is_down(
    hook: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_read() -> Any:
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr(hook.app.db, "read", broken_read)
    base = hook.webhook_target.rsplit("/telegram/hook", 1)[0]
    async with aiohttp.ClientSession() as client, client.get(f"{base}/readyz") as response:
        report = await response.json()
    assert response.status == 503
    assert report["database"] == "StorageUnavailable"
