"""One chat never stalls the others: a flooding user, or a chat waiting out a 429, leaves the
other users' waits under a second at a 30 ms Bot API round trip (on both backends)."""

from __future__ import annotations

import pytest

from bench import fairness
from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot

pytestmark = pytest.mark.alone


async def test_500_taps_from_one_user_leave_20_others_under_a_second(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.latency = 0.03
    waits = await fairness.flood(emulator)
    assert len(waits.seconds) == 20
    assert waits.quantile(0.99) < 1.0, waits.seconds
    # The flood cost one notice, not a call per dropped tap.
    await bot.settled(emulator, limit=30)
    flooder = [c for c in emulator.calls() if str(c.params.get("chat_id")) == str(fairness.FLOODER)]
    notices = [c for c in emulator.calls("answerCallbackQuery") if c.params.get("text")]
    assert len([c for c in notices if "Too many" in c.params["text"]]) == 1
    assert len(emulator.calls("answerCallbackQuery")) < 60  # of 500 taps
    assert len(flooder) < 60


async def test_a_429_in_one_chat_leaves_19_others_under_a_second(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.latency = 0.03
    waits = await fairness.retry_after(emulator, wait=8)
    assert len(waits.seconds) == 19
    assert waits.quantile(0.99) < 1.0, waits.seconds
