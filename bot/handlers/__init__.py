"""Feature routers, included in a fixed order: features first, then fallbacks, then errors.

Routers are built per application, so tests can start the bot several times in one process.
"""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    balance,
    cards,
    common,
    confirm,
    errors,
    language,
    security,
    start,
    support,
)


def create_root_router() -> Router:
    root = Router(name="root")
    root.include_routers(
        start.create_router(),
        balance.create_router(),
        language.create_router(),
        common.create_router(),  # /cancel and /help work inside every dialogue
        security.create_router(),
        confirm.create_router(),
        cards.create_router(),
        support.create_router(),
        common.create_fallback_router(),
        errors.create_router(),
    )
    return root
