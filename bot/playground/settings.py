"""Who is in the playground and which of the shop's settings it takes from ``.env``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings

# Shaped like a real token so Settings accepts it; it only ever reaches the local emulator.
PLAYGROUND_TOKEN = "700000001:playground-local-token-never-sent-anywhere"
OPERATORS_CHAT_ID = -1001000000001
OPERATORS_CHAT_TITLE = "Giftwallet operators"


@dataclass(frozen=True, slots=True)
class DemoUser:
    id: int
    name: str
    language: str
    operator: bool = False


DEMO_USERS = (
    DemoUser(1001, "Анна", "ru"),
    DemoUser(1002, "Ben", "en"),
    DemoUser(900, "Olga", "ru", operator=True),
)


# What the playground never takes from .env: the token and the database (it has its own), the
# Bot API server (it is its own), secrets (its own pepper in its data dir; Stars, not a payment
# provider), and where data lives. Everything else (holds, nominals, rates, the catalog,
# languages, limits) shapes its shop as it would the real one.
NOT_FROM_ENV = frozenset(
    {
        "bot_token",
        "telegram_api_url",
        "data_dir",
        "database_url",
        "database_pool_size",
        "secret_pepper",
        "payment_provider_token",
    }
)


# Given to the settings in place of .env's values, so a bad one there cannot stop the playground.
NOT_READ: dict[str, Any] = {
    "bot_token": PLAYGROUND_TOKEN,
    "telegram_api_url": None,
    "database_url": None,
    "secret_pepper": None,
    "payment_provider_token": None,
}


def playground_settings(base: Settings | None, base_url: str, data_dir: Path) -> Settings:
    """The user's settings, with the emulator as the Bot API server and a data dir of its own."""
    admins = {user.id for user in DEMO_USERS if user.operator}
    values: dict[str, Any] = {
        "bot_token": PLAYGROUND_TOKEN,
        "telegram_api_url": base_url,
        "data_dir": data_dir,
        "database_url": None,  # its own SQLite file in data_dir, never the shop's database
        "admin_ids": frozenset(admins | set(base.admin_ids if base else ())),
        "support_chat_id": (base.support_chat_id if base else None) or OPERATORS_CHAT_ID,
        "_env_file": None,
    }
    if base is None:
        return Settings(**values)
    shop = {
        name: getattr(base, name)
        for name in base.model_fields_set
        if name not in NOT_FROM_ENV and name not in values
    }
    return Settings(**(shop | values))
