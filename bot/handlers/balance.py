"""Quick balance: /balance and the Balance button, which edits its message in place."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.handlers.filters import PrivateChat
from bot.handlers.render import show
from bot.i18n import Translator
from bot.keyboards.callbacks import Menu, MenuAction
from bot.keyboards.menu import balance_keyboard
from bot.services.ledger import LedgerService, UserBalances
from bot.storage.repositories.users import UserRecord


def balance_text(t: Translator, balances: UserBalances) -> str:
    return t(
        "balance-text",
        balance=t.money(balances.balance),
        available=t.money(balances.cashback_available),
        pending=t.money(balances.cashback_pending),
    )


async def balance(
    event: Message | CallbackQuery, t: Translator, user: UserRecord, ledger: LedgerService
) -> None:
    balances = await ledger.balances(user.id)
    await show(event, balance_text(t, balances), balance_keyboard(t))


def create_router() -> Router:
    router = Router(name="balance")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(balance, Command("balance"))
    router.callback_query.register(balance, Menu.filter(F.action == MenuAction.BALANCE))
    return router
