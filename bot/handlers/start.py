"""/start and the main menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.domain.models import UserRecord
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import Menu, MenuAction
from bot.keyboards.menu import main_menu
from bot.screens import show


async def start(message: Message, t: Translator, state: FSMContext, user: UserRecord) -> None:
    await state.clear()
    await message.answer(t("start-greeting", name=user.first_name), reply_markup=main_menu(t))


async def home(callback: CallbackQuery, t: Translator, state: FSMContext) -> None:
    await state.clear()
    await show(callback, t("menu-title"), main_menu(t))


def create_router() -> Router:
    router = Router(name="start")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(start, CommandStart())
    router.callback_query.register(home, Menu.filter(F.action == MenuAction.HOME))
    return router
