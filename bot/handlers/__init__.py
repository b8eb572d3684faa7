"""Feature routers, included in a fixed order: features first, then fallbacks, then errors.

Routers are built per application, so tests can start the bot several times in one process.
"""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    admin,
    balance,
    cards,
    cashback,
    certificates,
    common,
    confirm,
    errors,
    gifts,
    history,
    language,
    miniapp,
    notifications,
    orders,
    payments,
    security,
    shop,
    start,
    support,
)
from bot.services.cashback import MOVE as CASHBACK_MOVE
from bot.services.cashback import WITHDRAW as CASHBACK_WITHDRAW
from bot.services.gifts import FROM_BALANCE
from bot.services.orders import PAY as ORDER_PAY


def create_root_router() -> Router:
    """For the dispatcher that indexes them (bot/handlers/index.py)."""
    root = Router(name="root")
    root.include_routers(
        payments.create_router(),  # money first: never held up behind anything else
        gifts.create_router(),  # before /start and the balance card: gift links, gift cards
        start.create_router(),
        balance.create_router(),
        miniapp.create_router(),
        language.create_router(),
        notifications.create_router(),
        common.create_router(),  # /cancel and /help work inside every dialogue
        security.create_router(),
        confirm.create_router(
            {
                FROM_BALANCE: gifts.gift_confirmed,
                ORDER_PAY: orders.order_paid,
                CASHBACK_WITHDRAW: cashback.withdrawal_requested,
                CASHBACK_MOVE: cashback.moved,
            }
        ),
        certificates.create_router(),
        orders.create_router(),
        cashback.create_router(),
        shop.create_router(),
        history.create_router(),
        cards.create_router(),
        admin.create_router(),
        support.create_router(),
        common.create_fallback_router(),
        errors.create_router(),
    )
    return root
