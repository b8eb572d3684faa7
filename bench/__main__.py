"""``python -m bench`` (or ``make bench``): every benchmark, as ratios against its baseline."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

from bench import crash, fairness, ledger, notices, polling, replicas, throughput

RESULTS = Path(__file__).resolve().parent / "results"


def _publish(name: str, text: str) -> None:
    """Print a benchmark's report and keep it in bench/results/<name>.txt."""
    print(text, flush=True)
    (RESULTS / f"{name}.txt").write_text(text + "\n", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument(
        "--only",
        choices=("throughput", "replicas", "polling", "fairness", "ledger", "crash", "notices"),
        help="run one benchmark",
    )
    parser.add_argument("--users", type=int, default=60, help="polling: chats")
    parser.add_argument("--per-user", type=int, default=5, help="polling: messages per chat")
    parser.add_argument("--repeats", type=int, default=3, help="polling: runs, median taken")
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 30])
    parser.add_argument("--ledger-users", type=int, default=100_000, help="ledger: seeded users")
    parser.add_argument(
        "--ledger-postings", type=int, default=1_000_000, help="ledger: seeded postings"
    )
    parser.add_argument("--payments", type=int, default=2000, help="ledger: payments per run")
    parser.add_argument("--bursts", type=int, default=6, help="crash: kills, one per burst")
    parser.add_argument("--burst-size", type=int, default=10, help="crash: payments per burst")
    parser.add_argument("--mix-users", type=int, default=200, help="throughput: users")
    parser.add_argument("--mix-per-user", type=int, default=10, help="throughput: updates each")
    parser.add_argument("--new-users", type=int, default=1000, help="throughput: first /starts")
    parser.add_argument("--load-rate", type=float, default=200, help="throughput: offered/s")
    parser.add_argument(
        "--workloads",
        nargs="+",
        default=["mix", "burst", "new", "load"],
        choices=["mix", "burst", "new", "load"],
        help="throughput: which workloads",
    )
    parser.add_argument(
        "--deliveries",
        nargs="+",
        choices=(throughput.POLLING, throughput.WEBHOOK),
        default=[throughput.POLLING, throughput.WEBHOOK],
        help="throughput: how updates reach both bots (PostgreSQL runs polling)",
    )
    parser.add_argument("--replica-users", type=int, default=200, help="replicas: users")
    parser.add_argument("--replica-per-user", type=int, default=10, help="replicas: updates each")
    parser.add_argument("--notices", type=int, default=10_000, help="notices: queued")
    parser.add_argument("--notice-users", type=int, default=2_000, help="notices: recipients")
    parser.add_argument("--notice-rate", type=float, default=25, help="notices: NOTICE_RATE")
    parser.add_argument(
        "--notice-latency-ms", type=int, nargs="+", default=[30], help="notices: round trips"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    RESULTS.mkdir(exist_ok=True)

    postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not postgres:
        print("PostgreSQL scenarios skipped (set BENCH_DATABASE_URL=postgresql://...)")

    if args.only in (None, "throughput"):
        runs = asyncio.run(
            throughput.run(
                users=args.mix_users,
                per_user=args.mix_per_user,
                new_users=args.new_users,
                load_users=args.new_users,
                load_rate=args.load_rate,
                latencies=tuple(ms / 1000 for ms in args.latency_ms),
                repeats=args.repeats,
                postgres_url=postgres or None,
                workloads=tuple(args.workloads),
                deliveries=tuple(args.deliveries),
            )
        )
        _publish("throughput", throughput.report(runs))

    redis = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if args.only in (None, "replicas"):
        if postgres and redis:
            replica_runs = asyncio.run(
                replicas.run(
                    users=args.replica_users,
                    per_user=args.replica_per_user,
                    latencies=tuple(ms / 1000 for ms in args.latency_ms),
                    repeats=args.repeats,
                    postgres_url=postgres,
                    redis_url=redis,
                )
            )
            _publish("replicas", replicas.report(replica_runs))
        else:
            print("Replicas skipped: they need BENCH_DATABASE_URL and BENCH_REDIS_URL")

    if args.only in (None, "polling"):
        measured = asyncio.run(
            polling.run(
                users=args.users,
                per_user=args.per_user,
                latencies=tuple(ms / 1000 for ms in args.latency_ms),
                repeats=args.repeats,
                postgres_url=postgres or None,
            )
        )
        _publish("polling", polling.report(measured))

    if args.only in (None, "ledger"):
        results, plans = asyncio.run(
            ledger.run(
                users=args.ledger_users,
                postings=args.ledger_postings,
                payments=args.payments,
                repeats=args.repeats,
                postgres_url=postgres or None,
            )
        )
        _publish("ledger", ledger.report(results, plans))

    if args.only in (None, "fairness"):
        _publish("fairness", fairness.report(asyncio.run(fairness.run())))

    if args.only in (None, "crash"):
        losses = asyncio.run(
            crash.run(bursts=args.bursts, burst_size=args.burst_size, latency=0.03)
        )
        _publish("crash", crash.report(losses))

    if args.only in (None, "notices"):
        drained = asyncio.run(
            notices.run(
                notices=args.notices,
                users=args.notice_users,
                rate=args.notice_rate,
                latencies=tuple(ms / 1000 for ms in args.notice_latency_ms),
                postgres_url=postgres or None,
            )
        )
        _publish("notices", notices.report(drained))


if __name__ == "__main__":
    main()
