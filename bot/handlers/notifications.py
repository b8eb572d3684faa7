"""/notifications: which kinds of notice the user gets. Messages about their own money
(withdrawal decisions) are not switchable."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.domain.models import UserRecord
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import NoticeToggle
from bot.keyboards.cashback import notifications_keyboard
from bot.screens import show
from bot.services import Services
from bot.services.notices import SWITCHABLE


async def notifications(
    event: Message | CallbackQuery, t: Translator, user: UserRecord, services: Services
) -> None:
    muted = await services.notices.muted(user.id)
    await show(event, t("notifications-title"), notifications_keyboard(t, SWITCHABLE, muted))


async def toggle(
    callback: CallbackQuery,
    callback_data: NoticeToggle,
    t: Translator,
    user: UserRecord,
    services: Services,
) -> None:
    muted = await services.notices.toggle(user.id, callback_data.kind)
    await show(callback, t("notifications-title"), notifications_keyboard(t, SWITCHABLE, muted))


def create_router() -> Router:
    router = Router(name="notifications")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(notifications, Command("notifications"))
    router.callback_query.register(notifications, NoticeToggle.filter(F.kind == ""))
    router.callback_query.register(toggle, NoticeToggle.filter(F.kind.in_(SWITCHABLE)))
    return router
