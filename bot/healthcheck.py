"""The container's health check: ``python -m bot.healthcheck`` exits 0 when /healthz answers.

It asks the webhook server (WEBHOOK_PORT) or, for a poller, the metrics server (METRICS_PORT)
on 127.0.0.1. The standard library only: the slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("METRICS_PORT") or os.environ.get("WEBHOOK_PORT") or "8080"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as answer:
            return 0 if answer.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
