"""Limits counted together in Redis: what one replica spends, another cannot spend again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.middlewares.throttling import SharedBuckets
from bot.runtime.notices import SendPacer
from bot.storage.errors import SharedStoreUnavailable
from bot.storage.shared_limits import SharedLimits
from tests.databases import REDIS_HINT, TEST_REDIS_URL

pytestmark = pytest.mark.skipif(not TEST_REDIS_URL, reason=REDIS_HINT)


@pytest.fixture
async def replicas() -> AsyncIterator[list[SharedLimits]]:
    namespace = f"test:{uuid.uuid4().hex}"
    made = [SharedLimits(TEST_REDIS_URL, namespace) for _ in range(3)]
    for limits in made:
        await limits.connect()
    yield made
    for limits in made:
        await limits.close()


async def test_a_burst_spread_over_replicas_is_counted_once(replicas: list[SharedLimits]) -> None:
    gates = [SharedBuckets(limits, capacity=5, rate=0.01) for limits in replicas]
    answers = [await gates[n % 3].admit(42) for n in range(9)]
    assert answers[:5] == [(True, False)] * 5
    assert answers[5] == (False, True), "one notice for the burst, whichever replica"
    assert answers[6:] == [(False, False)] * 3
    assert await gates[0].admit(43) == (True, False), "another person has a bucket of their own"


async def test_notices_keep_one_pace_across_replicas(replicas: list[SharedLimits]) -> None:
    rate = 20.0
    pacers = [SendPacer(rate, shared=limits) for limits in replicas]
    starts: list[float] = []

    async def send(pacer: SendPacer) -> None:
        await pacer.acquire()
        starts.append(time.monotonic())
        pacer.release()

    began = time.monotonic()
    await asyncio.gather(*(send(pacers[n % 3]) for n in range(30)))
    took = time.monotonic() - began
    # 30 starts at 20 a second take about 1.45 s, not the 0.5 s three free pacers would.
    assert took >= 29 / rate * 0.95, took
    starts.sort()
    in_any_second = max(sum(1 for s in starts if first <= s < first + 1.0) for first in starts)
    assert in_any_second <= rate + 1


async def test_an_unreachable_redis_is_named_at_start_and_lets_people_through() -> None:
    limits = SharedLimits("redis://127.0.0.1:1/0", "test:down")
    with pytest.raises(SharedStoreUnavailable, match="Redis does not answer"):
        await limits.connect()
    gate = SharedBuckets(limits, capacity=1, rate=1)
    assert await gate.admit(1) == (True, False)
    assert await limits.ping() is False
    await limits.close()
