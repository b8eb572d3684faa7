"""Keyboards of the payment-password dialogues."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Translator
from bot.keyboards.cache import built_once
from bot.keyboards.callbacks import Menu, MenuAction, PickQuestion, Security, SecurityAction


@built_once
def cancel_keyboard(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("button-cancel"), callback_data=Security(action=SecurityAction.CANCEL))
    return builder.as_markup()


@built_once
def security_menu(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("security-change"), callback_data=Security(action=SecurityAction.CHANGE))
    builder.button(text=t("security-forgot"), callback_data=Security(action=SecurityAction.FORGOT))
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(1)
    return builder.as_markup()


def questions_keyboard(
    t: Translator, codes: tuple[str, ...], taken: Iterable[str]
) -> InlineKeyboardMarkup:
    """Every question not chosen yet, one per row, and Cancel."""
    chosen = set(taken)
    builder = InlineKeyboardBuilder()
    for index, code in enumerate(codes):
        if code not in chosen:
            builder.button(text=t(f"question-{code}"), callback_data=PickQuestion(index=index))
    builder.button(text=t("button-cancel"), callback_data=Security(action=SecurityAction.CANCEL))
    builder.adjust(1)
    return builder.as_markup()
