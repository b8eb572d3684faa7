"""/language: the user's choice overrides the client's language and persists."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.config import SUPPORTED_LOCALES
from bot.domain.models import UserRecord
from bot.handlers.filters import PrivateChat
from bot.i18n import I18n, Translator
from bot.keyboards.callbacks import Menu, MenuAction, SetLanguage
from bot.keyboards.commands import publish_chat_commands
from bot.keyboards.menu import language_keyboard, main_menu
from bot.screens import show
from bot.services import Services


async def choose_language(event: Message | CallbackQuery, t: Translator) -> None:
    await show(event, t("language-choose"), language_keyboard(t))


async def set_language(
    callback: CallbackQuery,
    callback_data: SetLanguage,
    user: UserRecord,
    services: Services,
    i18n: I18n,
    bot: Bot,
) -> None:
    await services.users.set_language(user.id, callback_data.code)
    t = i18n(callback_data.code)
    await show(callback, f"{t('language-set')}\n\n{t('menu-title')}", main_menu(t))
    await publish_chat_commands(bot, user.id, t)


def create_router() -> Router:
    router = Router(name="language")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(choose_language, Command("language"))
    router.callback_query.register(choose_language, Menu.filter(F.action == MenuAction.LANGUAGE))
    router.callback_query.register(set_language, SetLanguage.filter(F.code.in_(SUPPORTED_LOCALES)))
    return router
