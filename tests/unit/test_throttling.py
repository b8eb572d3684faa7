"""The per-user token bucket behind the flood control."""

from __future__ import annotations

from bot.middlewares.throttling import TokenBuckets


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_then_one_warning_per_burst() -> None:
    clock = FakeMonotonic()
    buckets = TokenBuckets(3, 1.0, monotonic=clock)
    assert [buckets.take(7) for _ in range(3)] == [(True, False)] * 3
    assert buckets.take(7) == (False, True)  # the first refusal warns
    assert buckets.take(7) == (False, False)  # the rest of the burst is dropped quietly
    assert buckets.take(8) == (True, False)  # other users are not affected
    clock.now += 1.0
    assert buckets.take(7) == (True, False)
    assert buckets.take(7) == (False, False)  # one token back is not the end of the burst
    clock.now += 3.0  # refilled completely: the flood is over
    assert [buckets.take(7) for _ in range(3)] == [(True, False)] * 3
    assert buckets.take(7) == (False, True)  # a new burst warns again
    clock.now += 60
    assert [buckets.take(7)[0] for _ in range(4)] == [True, True, True, False]  # capped


def test_idle_buckets_are_forgotten_when_the_table_is_full() -> None:
    clock = FakeMonotonic()
    buckets = TokenBuckets(2, 1.0, monotonic=clock, max_keys=3)
    for user in (1, 2, 3):
        buckets.take(user)
    clock.now += 10  # all three have refilled
    buckets.take(4)
    assert set(buckets._buckets) == {4}


def test_a_flood_at_the_refill_rate_gets_one_warning() -> None:
    """500 taps over a minute: every refilled token lets one through, and one notice in all."""
    clock = FakeMonotonic()
    buckets = TokenBuckets(30, 3.0, monotonic=clock)
    warnings = 0
    for _ in range(500):
        clock.now += 0.12
        _, warn = buckets.take(7)
        warnings += warn
    assert warnings == 1


def test_the_table_never_grows_past_its_cap() -> None:
    clock = FakeMonotonic()
    buckets = TokenBuckets(2, 0.001, monotonic=clock, max_keys=100)
    for user in range(1000):  # nobody refills: the oldest make room
        buckets.take(user)
        buckets.take(user)
    assert len(buckets) <= 100
    assert buckets.take(999) == (False, True)  # the newest are still tracked
