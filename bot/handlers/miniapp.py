"""/app: the wallet as a Mini App (bot/webapp), for clients where the menu button is not in
sight."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.config import Settings
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.screens import miniapp as screens
from bot.screens import show


async def open_app(message: Message, t: Translator, settings: Settings) -> None:
    await show(message, screens.open_app(t, settings.webapp_url))


def create_router() -> Router:
    router = Router(name="miniapp")
    router.message.filter(PrivateChat())
    router.message.register(open_app, Command("app"))
    return router
