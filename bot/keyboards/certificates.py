"""Keyboards of buying certificates, the certificate list and gift codes."""

from __future__ import annotations

from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.money import Money
from bot.i18n import Translator
from bot.keyboards.cache import built_once
from bot.keyboards.callbacks import Buy, BuyStep, Menu, MenuAction


@built_once
def buy_keyboard(t: Translator, nominals: tuple[Money, ...]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, nominal in enumerate(nominals):
        builder.button(text=t.money(nominal), callback_data=Buy(step=BuyStep.NOMINAL, index=index))
    builder.adjust(3)
    rows = InlineKeyboardBuilder()
    rows.button(text=t("buy-custom-button"), callback_data=Buy(step=BuyStep.CUSTOM))
    rows.button(text=t("certificates-button"), callback_data=Buy(step=BuyStep.MINE))
    rows.button(text=t("gift-from-balance-button"), callback_data=Buy(step=BuyStep.GIVE))
    rows.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    rows.adjust(1)
    builder.attach(rows)
    return builder.as_markup()


@built_once
def purpose_keyboard(t: Translator, index: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("buy-for-self"), callback_data=Buy(step=BuyStep.FOR_SELF, index=index))
    builder.button(text=t("buy-as-gift"), callback_data=Buy(step=BuyStep.AS_GIFT, index=index))
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.BUY))
    builder.adjust(2, 1)
    return builder.as_markup()


@built_once
def note_keyboard(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("gift-note-skip"), callback_data=Buy(step=BuyStep.SKIP_NOTE))
    builder.button(text=t("button-cancel"), callback_data=Menu(action=MenuAction.BUY))
    builder.adjust(2)
    return builder.as_markup()


@built_once
def cancel_to_buy(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("button-cancel"), callback_data=Menu(action=MenuAction.BUY))
    return builder.as_markup()


@built_once
def certificates_keyboard(t: Translator, page: int, *, more: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    nav = 0
    if page > 0:
        builder.button(text="◀️", callback_data=Buy(step=BuyStep.MINE, page=page - 1))
        nav += 1
    if more:
        builder.button(text="▶️", callback_data=Buy(step=BuyStep.MINE, page=page + 1))
        nav += 1
    builder.button(text=t("menu-buy"), callback_data=Menu(action=MenuAction.BUY))
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(*([nav] if nav else []), 2)
    return builder.as_markup()


def gift_share_keyboard(t: Translator, link: str, code: str) -> InlineKeyboardMarkup:
    """Share sends the gift card into a chat the giver picks, through inline mode."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=t("gift-share"), switch_inline_query=f"gift_{code}")],
            [InlineKeyboardButton(text=t("gift-open-link"), url=link)],
            # Telegram copies the link to the clipboard itself: no message to select from.
            [InlineKeyboardButton(text=t("gift-copy-link"), copy_text=CopyTextButton(text=link))],
            [
                InlineKeyboardButton(
                    text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME).pack()
                )
            ],
        ]
    )


def gift_claim_keyboard(t: Translator, link: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t("gift-claim-button"), url=link)]]
    )
