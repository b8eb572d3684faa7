"""Two webhook replicas on one PostgreSQL database and one Redis, fed in turn by the emulator
as a load balancer would: a conversation whose steps land on alternate replicas goes on as if
one process served it."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest

from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot
from tests.databases import REDIS_HINT, TEST_REDIS_URL
from tests.e2e.test_security_dialogues import ANSWERS, PASSWORD, secret
from tests.e2e.test_skeleton import buttons, say, tap

VERA = 4201


@pytest.fixture
async def pair(backend: str, start_bot: Callable[..., Any]) -> tuple[RunningBot, RunningBot]:
    if backend == "sqlite":
        pytest.skip("replicas share PostgreSQL; SQLite serves one process")
    if not TEST_REDIS_URL:
        pytest.skip(REDIS_HINT)
    first: RunningBot = await start_bot(webhook=True)
    second: RunningBot = await start_bot(webhook=True)
    return first, second


def targets_of(emulator: BotAPIEmulator, chat: int) -> list[str]:
    return [post.target for post in emulator.posts() if post.queue[1] == chat]


async def test_a_dialogue_alternating_between_replicas_finishes(
    emulator: BotAPIEmulator, pair: tuple[RunningBot, RunningBot]
) -> None:
    first, second = pair
    emulator.add_user(VERA, "Вера", language_code="en")
    prompt = await say(emulator, VERA, "/language")
    await tap(emulator, VERA, prompt.result["message_id"], "lang:ru")
    # The language chosen through one replica holds in the other.
    intro = await say(emulator, VERA, "/password")
    assert "не</b> пароль от Telegram" in intro.params["text"]
    await secret(emulator, VERA, PASSWORD)
    picker = await secret(emulator, VERA, PASSWORD)
    for answer in ANSWERS:
        question = next(data for _, data in buttons(picker) if data.startswith("q:"))
        await tap(emulator, VERA, picker.result["message_id"], question)
        picker = await secret(emulator, VERA, answer)
    assert "заданы" in picker.params["text"]
    assert await second.app.services.security.has_password(VERA)
    await first.app.services.security.verify_password(VERA, PASSWORD)

    used = targets_of(emulator, VERA)
    assert {first.webhook_target, second.webhook_target} <= set(used)
    switches = sum(1 for a, b in pairwise(used) if a != b)
    assert switches >= len(used) // 3, used
