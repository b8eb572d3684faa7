"""The benchmarks still run (tiny sizes, no timing asserted: speed is judged by `make bench`)."""

from __future__ import annotations

import pytest

from bench import ledger, notices, polling, throughput
from tests.databases import ENABLE_HINT, TEST_DATABASE_URL


async def test_polling_benchmark_runs_every_scenario() -> None:
    results = await polling.run(users=3, per_user=2, latencies=(0.0,), repeats=1)
    assert [m.scenario for m in results] == list(polling.scenarios(None))
    assert all(m.updates == 6 and m.seconds > 0 for m in results)
    text = polling.report(results)
    assert "x 1.00" in text.splitlines()[1]


async def test_ledger_benchmark_runs_on_sqlite() -> None:
    results, plans = await ledger.run(
        users=60, postings=400, payments=20, repeats=1, postgres_url=None
    )
    assert {r.runner for r in results} == {
        ledger.BASELINE,
        "aiosqlite, a hop per statement",
        "Giftwallet services",
    }
    assert all(r.payments == 20 and r.seconds > 0 for r in results)
    text = ledger.report(results, plans)
    assert "SEARCH accounts USING" in text and "x 1.00" in text


async def test_throughput_benchmark_runs_both_bots_as_processes() -> None:
    runs = await throughput.run(
        users=3,
        per_user=3,
        new_users=4,
        latencies=(0.0,),
        repeats=1,
        workloads=("mix", "burst"),
        deliveries=(throughput.POLLING,),
    )
    assert [(r.bot, r.workload) for r in runs] == [
        (throughput.ECHO, "mix"),
        (throughput.GIFTWALLET, "mix"),
        (throughput.ECHO, "burst"),
        (throughput.GIFTWALLET, "burst"),
    ]
    assert all(r.errors == 0 and r.updates > 0 and r.rss > 0 and r.cpu > 0 for r in runs)
    assert [r.updates for r in runs if r.workload == "burst"] == [12, 12]  # 4 chats, 3 rounds
    text = throughput.report(runs)
    assert "x 1.00" in text and "ms/update" in text


async def small_mix(delivery: str, postgres_url: str | None = None) -> list[throughput.Run]:
    """3 users × 3 updates of the mix, once, at 0 ms: each bot started and answering."""
    return await throughput.run(
        users=3,
        per_user=3,
        latencies=(0.0,),
        repeats=1,
        workloads=("mix",),
        deliveries=(delivery,),
        postgres_url=postgres_url,
    )


async def test_throughput_benchmark_runs_both_bots_on_webhooks() -> None:
    runs = await small_mix(throughput.WEBHOOK)
    assert [(r.bot, r.delivery, r.updates, r.errors) for r in runs] == [
        (throughput.ECHO, throughput.WEBHOOK, 9, 0),
        (throughput.GIFTWALLET, throughput.WEBHOOK, 9, 0),
    ]
    assert "SQLite, webhook, Bot API round trip 0 ms" in throughput.report(runs)


async def test_notices_benchmark_drains_everything_within_the_limits() -> None:
    [drained] = await notices.run(notices=60, users=30, rate=30, latencies=(0.0,))
    assert (drained.backend, drained.notices) == ("sqlite", 60)
    assert drained.missing == drained.repeated == drained.out_of_order == 0
    assert drained.rate_violations == drained.chat_violations == 0
    assert (
        30 <= drained.messages <= 60
        and drained.db_calls > 0
        and drained.rss_peak >= drained.rss_before > 0
    )
    assert "of the rate" in notices.report([drained])


@pytest.mark.skipif(not TEST_DATABASE_URL, reason=f"PostgreSQL tests skipped: {ENABLE_HINT}")
async def test_the_benchmarks_run_on_postgresql() -> None:
    results = await polling.run(
        users=3, per_user=2, latencies=(0.0,), repeats=1, postgres_url=TEST_DATABASE_URL
    )
    assert results[-1].scenario == "Giftwallet bot, /balance (PostgreSQL)"
    assert results[-1].updates == 6
    ledger_results, plans = await ledger.run(
        users=60, postings=400, payments=20, repeats=1, postgres_url=TEST_DATABASE_URL
    )
    assert {r.backend for r in ledger_results} == {"sqlite", "postgresql"}
    assert "postgresql, payment: account ids" in ledger.report(ledger_results, plans)
    drained = await notices.run(
        notices=20, users=10, rate=30, latencies=(0.0,), postgres_url=TEST_DATABASE_URL
    )
    assert [(d.backend, d.missing, d.repeated) for d in drained] == [
        ("sqlite", 0, 0),
        ("postgresql", 0, 0),
    ]
    runs = await small_mix(throughput.POLLING, TEST_DATABASE_URL)
    assert [(r.bot, r.database) for r in runs] == [
        (throughput.ECHO, throughput.SQLITE),
        (throughput.GIFTWALLET, throughput.SQLITE),
        (throughput.ECHO, throughput.POSTGRESQL),
        (throughput.GIFTWALLET, throughput.POSTGRESQL),
    ]
    assert all(r.errors == 0 and r.updates == 9 for r in runs)
    assert "PostgreSQL, polling, Bot API round trip 0 ms" in throughput.report(runs)


def test_the_throughput_report_compares_each_run_with_the_echo_run_beside_it() -> None:
    def run(bot: str, seconds: float, database: str = throughput.SQLITE) -> throughput.Run:
        return throughput.Run(bot, "mix", 0, 100, seconds, [0.1], 100, 0, 2**20, 0.1, database)

    echo, ours = throughput.ECHO, throughput.GIFTWALLET
    # A slow moment hits both runs of a pair: per pair the ratio holds at x0.50.
    runs = [run(echo, 1.0), run(ours, 2.0), run(echo, 4.0), run(ours, 8.0)]
    runs += [run(echo, 1.0, throughput.POSTGRESQL), run(ours, 1.25, throughput.POSTGRESQL)]

    text = throughput.report(runs)

    sqlite, postgresql = text.split("PostgreSQL, polling, Bot API")
    [each] = [line for line in sqlite.splitlines() if "against its own echo run" in line]
    assert each.split()[-2:] == ["x0.50", "x0.50"]
    assert "Giftwallet bot" in postgresql and "x 0.80" in postgresql


async def test_replicas_benchmark_runs_every_topology_and_a_takeover() -> None:
    from bench import replicas
    from tests.databases import REDIS_HINT, TEST_REDIS_URL

    if not (TEST_DATABASE_URL and TEST_REDIS_URL):
        pytest.skip(f"{ENABLE_HINT}; {REDIS_HINT}")
    runs = await replicas.run(
        users=4,
        per_user=2,
        latencies=(0.0,),
        repeats=1,
        postgres_url=TEST_DATABASE_URL,
        redis_url=TEST_REDIS_URL,
        topologies=(0, 2),
    )
    assert [r.topology for r in runs] == [replicas.POLLING, "webhook, 2 replicas"]
    assert all(r.updates == 8 and r.errors == 0 and r.cpu > 0 for r in runs)
    assert runs[1].takeover is not None and runs[1].takeover < 15
    assert "taken over after" in replicas.report(runs)
