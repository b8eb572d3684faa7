"""Quick balance: /balance, the Balance button (edits its message in place) and inline mode."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineQuery, Message

from bot.domain.models import UserRecord
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import Menu, MenuAction
from bot.screens import balance as screens
from bot.screens import show
from bot.services import Services


async def balance(
    event: Message | CallbackQuery, t: Translator, user: UserRecord, services: Services
) -> None:
    await show(event, screens.balance(t, await services.cashback.wallet(user.id)))


async def inline_balance(
    query: InlineQuery, t: Translator, user: UserRecord, services: Services
) -> None:
    """``@bot`` in any chat: a private, uncached card with the user's own balance."""
    card = screens.inline_card(t, await services.cashback.wallet(user.id))
    await query.answer([card], cache_time=0, is_personal=True)


def create_router() -> Router:
    router = Router(name="balance")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(balance, Command("balance"))
    router.callback_query.register(balance, Menu.filter(F.action == MenuAction.BALANCE))
    router.inline_query.register(inline_balance)
    return router
