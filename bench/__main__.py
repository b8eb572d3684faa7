"""``python -m bench`` (or ``make bench``): every benchmark, as ratios against its baseline."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from bench import polling


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 30])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(
        polling.run(
            users=args.users,
            per_user=args.per_user,
            latencies=tuple(ms / 1000 for ms in args.latency_ms),
            repeats=args.repeats,
        )
    )
    text = polling.report(results)
    print(text)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "polling.txt").write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
