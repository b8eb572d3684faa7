"""Main menu, balance and language keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SUPPORTED_LOCALES
from bot.i18n import Translator
from bot.keyboards.cache import built_once
from bot.keyboards.callbacks import Menu, MenuAction, NoticeToggle, SetLanguage

_MAIN_MENU = (
    (MenuAction.BALANCE, "menu-balance"),
    (MenuAction.SHOP, "menu-shop"),
    (MenuAction.BUY, "menu-buy"),
    (MenuAction.ORDERS, "menu-orders"),
    (MenuAction.CASHBACK, "menu-cashback"),
    (MenuAction.CARDS, "menu-cards"),
    (MenuAction.SECURITY, "menu-security"),
    (MenuAction.SUPPORT, "menu-support"),
    (MenuAction.LANGUAGE, "menu-language"),
)


@built_once
def main_menu(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action, key in _MAIN_MENU:
        builder.button(text=t(key), callback_data=Menu(action=action))
    builder.adjust(1, 1, 2, 2, 2, 1)
    return builder.as_markup()


@built_once
def back_to_menu(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    return builder.as_markup()


@built_once
def balance_keyboard(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("balance-refresh"), callback_data=Menu(action=MenuAction.BALANCE))
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(2)
    return builder.as_markup()


@built_once
def language_keyboard(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        builder.button(text=t(f"language-button-{code}"), callback_data=SetLanguage(code=code))
    builder.button(text=t("notifications-button"), callback_data=NoticeToggle())
    builder.adjust(2, 1)
    return builder.as_markup()
