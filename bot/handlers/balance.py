"""Quick balance: /balance, the Balance button (edits its message in place) and inline mode."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import (
    CallbackQuery,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
)

from bot.domain.models import UserBalances, UserRecord
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import Menu, MenuAction
from bot.keyboards.menu import balance_keyboard
from bot.screens import show
from bot.services import Services


def balance_text(t: Translator, balances: UserBalances, certificates: int) -> str:
    return t(
        "balance-text",
        balance=t.money(balances.balance),
        count=certificates,
        available=t.money(balances.cashback_available),
        pending=t.money(balances.cashback_pending),
    )


async def balance(
    event: Message | CallbackQuery, t: Translator, user: UserRecord, services: Services
) -> None:
    balances = await services.ledger.balances(user.id)
    count = await services.certificates.count(user.id)
    await show(event, balance_text(t, balances, count), balance_keyboard(t))


async def inline_balance(
    query: InlineQuery, t: Translator, user: UserRecord, services: Services
) -> None:
    """``@bot`` in any chat: a private, uncached card with the user's own balance."""
    balances = await services.ledger.balances(user.id)
    count = await services.certificates.count(user.id)
    result = InlineQueryResultArticle(
        id="balance",
        title=t("inline-balance-title", balance=t.money(balances.balance), count=count),
        description=t(
            "inline-balance-description",
            available=t.money(balances.cashback_available),
            pending=t.money(balances.cashback_pending),
        ),
        input_message_content=InputTextMessageContent(
            message_text=balance_text(t, balances, count)
        ),
    )
    await query.answer([result], cache_time=0, is_personal=True)


def create_router() -> Router:
    router = Router(name="balance")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(balance, Command("balance"))
    router.callback_query.register(balance, Menu.filter(F.action == MenuAction.BALANCE))
    router.inline_query.register(inline_balance)
    return router
