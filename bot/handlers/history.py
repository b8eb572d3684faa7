"""/history: every movement of the user's money, paginated, and a CSV export."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.models import HistoryItem, UserRecord
from bot.domain.money import Money
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import HistoryPage, Menu, MenuAction
from bot.screens import show
from bot.screens.history import account_name, describe, history_csv
from bot.services import Services


def _line(t: Translator, item: HistoryItem) -> str:
    sign = "+" if item.amount.minor > 0 else "−"
    return t(
        "history-line",
        date=t.date(item.created_at),
        what=describe(t, item),
        account=account_name(t, item),
        amount=f"{sign}{t.money(Money(abs(item.amount.minor), item.amount.currency))}",
        after=t.money(item.balance_after),
    )


def _keyboard(t: Translator, older: int | None, *, first: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if not first:
        builder.button(text=t("history-newest"), callback_data=HistoryPage())
    if older is not None:
        builder.button(text=t("history-older"), callback_data=HistoryPage(before=older))
    builder.button(text=t("history-export"), callback_data=HistoryPage(export=True))
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(2, 2)
    return builder.as_markup()


async def history(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    callback_data: HistoryPage | None = None,
) -> None:
    before = callback_data.before if callback_data is not None and callback_data.before else None
    items, older = await services.ledger.history_page(user.id, before_entry=before)
    text = (
        t("history-title", lines=t.lines(_line(t, item) for item in items))
        if items
        else t("history-empty")
    )
    await show(event, text, _keyboard(t, older, first=before is None))


async def export(
    callback: CallbackQuery, t: Translator, user: UserRecord, services: Services
) -> None:
    """A CSV of every posting, oldest first; each account's amounts sum to its balance."""
    items = await services.ledger.full_history(user.id)
    data = history_csv(t, items)
    await callback.message.answer_document(  # type: ignore[union-attr]
        BufferedInputFile(data, filename=f"giftwallet-history-{user.id}.csv"),
        caption=t("history-export-caption", count=len(items)),
    )


def create_router() -> Router:
    router = Router(name="history")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(history, Command("history"))
    router.callback_query.register(export, HistoryPage.filter(F.export))
    router.callback_query.register(history, HistoryPage.filter())
    return router
