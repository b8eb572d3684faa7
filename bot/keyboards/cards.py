"""Keyboards of the saved-cards screens."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.models import SavedCard
from bot.i18n import Translator
from bot.keyboards.callbacks import CardAction, CardStep, Menu, MenuAction


def cards_keyboard(t: Translator, cards: list[SavedCard], *, room: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for card in cards:
        builder.button(
            text=t("card-delete-button", card=card.masked),
            callback_data=CardAction(step=CardStep.DELETE, card_id=card.id),
        )
    if room:
        builder.button(text=t("card-add-button"), callback_data=CardAction(step=CardStep.ADD))
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(1)
    return builder.as_markup()


def confirm_delete_keyboard(t: Translator, card: SavedCard) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("card-delete-yes"), callback_data=CardAction(step=CardStep.CONFIRM, card_id=card.id)
    )
    builder.button(text=t("card-delete-no"), callback_data=CardAction(step=CardStep.LIST))
    builder.adjust(2)
    return builder.as_markup()
