"""How updates reach the playground's bot: polling, or webhooks posted to in-process replicas.

The emulator stands in for Telegram and for the load balancer: it posts each update to the
next replica's port. One replica runs on the playground's own SQLite; several share the
PostgreSQL and Redis given with ``--database-url`` and ``--redis-url``.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.app import Application
from bot.config import Settings
from bot.emulator import Post

# What the replicas tell Telegram in setWebhook; the emulator, as their load balancer, posts to
# each replica's own port instead, so this address is never contacted.
PLAYGROUND_WEBHOOK_URL = "https://giftwallet.playground.invalid/telegram/hook"
PLAYGROUND_WEBHOOK_SECRET = "playground-webhook-secret"
MAX_REPLICAS = 5


def free_port() -> int:
    """A port nobody listens on now, for a replica's webhook server (on 127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def target(port: int) -> str:
    """Where the emulator posts a replica's updates."""
    return f"http://127.0.0.1:{port}/telegram/hook"


class ModeRefused(Exception):
    """A delivery mode this playground cannot run, in words for the page."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """How updates reach the bot: polling (0 replicas) or webhook posts to ``replicas``."""

    replicas: int = 0

    @property
    def label(self) -> str:
        if not self.replicas:
            return "polling"
        return f"webhook · {self.replicas} replica{'s' if self.replicas > 1 else ''}"

    def check(self, *, shared: bool) -> None:
        """Refuse what cannot run: ``shared`` says PostgreSQL and Redis were given."""
        if not 0 <= self.replicas <= MAX_REPLICAS:
            raise ModeRefused(f"0 (polling) to {MAX_REPLICAS} replicas")
        if self.replicas > 1 and not shared:
            raise ModeRefused(
                "several replicas share PostgreSQL and Redis: start the playground with"
                " --database-url postgresql://… --redis-url redis://… (on its own SQLite it"
                " runs one process)"
            )


def replica_settings(settings: Settings, port: int, redis_url: str | None) -> Settings:
    changes: dict[str, Any] = {
        "webhook_url": PLAYGROUND_WEBHOOK_URL,
        "webhook_secret": SecretStr(PLAYGROUND_WEBHOOK_SECRET),
        "webhook_host": "127.0.0.1",
        "webhook_port": port,
    }
    if redis_url is not None:
        changes["redis_url"] = SecretStr(redis_url)
    return settings.model_copy(update=changes)


def report(
    delivery: Delivery, apps: Sequence[Application], posts: Sequence[Post], *, shared: bool
) -> dict[str, Any]:
    """The mode, what each replica was posted (the balancer's view), and what else could run."""
    replicas = []
    for number, app in enumerate(apps, start=1):
        port = app.settings.webhook_port
        mine = [post for post in posts if post.target == target(port)]
        replicas.append(
            {
                "number": number,
                "port": port,
                "delivered": sum(1 for post in mine if post.outcome == 200),
                "refused": sum(1 for post in mine if post.outcome != 200),
            }
        )
    return {
        "replicas": delivery.replicas,
        "label": delivery.label,
        "shared": shared,
        "max_replicas": MAX_REPLICAS,
        "per_replica": replicas if delivery.replicas else [],
    }
