"""The way into the Mini App from the chat."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.i18n import Translator
from bot.keyboards.menu import main_menu
from bot.screens.base import Screen


def open_app(t: Translator, url: str | None) -> Screen:
    """A button that opens the app; without WEBAPP_URL, a word that the chat does it all."""
    if url is None:
        return Screen(t("app-not-set-up"), main_menu(t))
    button = InlineKeyboardButton(text=t("app-open-button"), web_app=WebAppInfo(url=url))
    return Screen(t("app-open"), InlineKeyboardMarkup(inline_keyboard=[[button]]))
