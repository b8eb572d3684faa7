"""/metrics in Prometheus's text format: counters move with updates and a payment, the books'
series follow the database, and nothing a user sends becomes a label."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.emulator import BotAPIEmulator
from bot.runtime.metrics import UPDATE_TYPES
from tests.conftest import WEBHOOK_SECRET, RunningBot, free_port
from tests.e2e.test_certificates import buy
from tests.e2e.test_skeleton import say

RITA = 3301


async def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(params=["webhook", "polling"])
async def serving(
    request: pytest.FixtureRequest, start_bot: Callable[..., Any]
) -> tuple[RunningBot, str]:
    if request.param == "webhook":
        running: RunningBot = await start_bot(webhook=True)
        return running, running.webhook_target.replace("/telegram/hook", "/metrics")
    port = free_port()
    running = await start_bot(metrics_port=port)
    return running, f"http://127.0.0.1:{port}/metrics"


async def test_counters_move_with_updates_and_a_payment(
    emulator: BotAPIEmulator, serving: tuple[RunningBot, str]
) -> None:
    bot, url = serving
    before = await scrape(url)
    emulator.add_user(RITA, "Rita", language_code="en")
    await say(emulator, RITA, "/start")
    await buy(emulator, bot, RITA, "$10")
    await bot.settled(emulator)
    after = await scrape(url)

    received = "giftwallet_updates_received_total"
    handled = "giftwallet_updates_handled_total"
    assert value(after, received, type="message") >= value(before, received, type="message") + 2
    assert value(after, received, type="pre_checkout_query") >= 1
    assert value(after, handled, type="message", outcome="done") >= 2
    assert value(after, "giftwallet_update_handling_seconds_count", type="callback_query") >= 1
    assert value(after, "giftwallet_payments_total", event="credited") == 1
    assert value(after, "giftwallet_payments_amount_minor_total", event="credited") == 1000
    assert value(after, "giftwallet_inbox_pending") == 0
    assert value(after, "giftwallet_inbox_parked") == 0
    assert ("giftwallet_telegram_429_total", (("path", "notices"),)) in after


async def test_a_crafted_update_adds_no_label_value(
    emulator: BotAPIEmulator, serving: tuple[RunningBot, str]
) -> None:
    bot, url = serving
    emulator.add_user(RITA, "Rita", language_code="en")
    await say(emulator, RITA, "/start")
    await emulator.send_callback(RITA, 'x"} 1\nevil_series{a="', 1)
    if bot.webhook:  # a kind Telegram may add one day (it sends only the kinds asked for)
        update = {"update_id": 999_000_001, "brand_new_kind_2030": {"from": {"id": RITA}}}
        async with (
            aiohttp.ClientSession() as client,
            client.post(
                bot.webhook_target,
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            ) as response,
        ):
            assert response.status == 200
    await bot.settled(emulator)
    after = await scrape(url)
    label_values = {value for _, labels in after for _, value in labels}
    types = {v for (name, labels), _ in after.items() for k, v in labels if k == "type"}
    assert types <= UPDATE_TYPES | {"other"}
    if bot.webhook:
        assert "other" in types, "the unknown kind is counted, as other"
    assert not any("evil" in v or "brand_new" in v for v in label_values)
    assert not any(name.startswith("evil") for name, _ in after)
