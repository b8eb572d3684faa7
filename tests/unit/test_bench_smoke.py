"""The benchmark still runs (tiny sizes, no timing asserted: speed is judged by `make bench`)."""

from __future__ import annotations

from bench import polling


async def test_polling_benchmark_runs_every_scenario() -> None:
    results = await polling.run(users=3, per_user=2, latencies=(0.0,), repeats=1)
    assert [m.scenario for m in results] == list(polling.SCENARIOS)
    assert all(m.updates == 6 and m.seconds > 0 for m in results)
    text = polling.report(results)
    assert "x 1.00" in text.splitlines()[1]
