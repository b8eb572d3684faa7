"""Gifts as the giver and the receiver see them."""

from __future__ import annotations

from aiogram.types import InlineQueryResultArticle, InputTextMessageContent

from bot.domain.models import Gift
from bot.domain.money import Money
from bot.i18n import Translator
from bot.keyboards.certificates import gift_claim_keyboard, gift_share_keyboard
from bot.screens.base import Screen

GIFT_PREFIX = "gift_"


def gift_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={GIFT_PREFIX}{code}"


def card_text(t: Translator, gift: Gift) -> str:
    """The gift as it is shared into another chat."""
    text = t("gift-card", amount=t.money(gift.amount))
    if gift.note:
        text += "\n\n" + t("gift-card-note", note=gift.note)
    return text


def shared_card(t: Translator, gift: Gift, bot_username: str) -> InlineQueryResultArticle:
    """The gift card a giver sends into another chat (inline mode, or the Mini App's share)."""
    return InlineQueryResultArticle(
        id=f"gift-{gift.id}",
        title=t("gift-inline-title", amount=t.money(gift.amount)),
        description=t("gift-inline-description"),
        input_message_content=InputTextMessageContent(message_text=card_text(t, gift)),
        reply_markup=gift_claim_keyboard(t, gift_link(bot_username, gift.code)),
    )


def ready(t: Translator, gift: Gift, bot_username: str, cashback: Money | None = None) -> Screen:
    """The giver's view of a new gift: the link, a Share button, when it comes back unclaimed."""
    link = gift_link(bot_username, gift.code)
    text = t(
        "gift-ready",
        amount=t.money(gift.amount),
        link=link,
        expires=t.moment(gift.expires_at),
    )
    if gift.note:
        text += "\n\n" + t("gift-card-note", note=gift.note)
    if cashback is not None and cashback.minor > 0:
        text += "\n" + t("gift-cashback", cashback=t.money(cashback))
    return Screen(text, gift_share_keyboard(t, link, gift.code))
