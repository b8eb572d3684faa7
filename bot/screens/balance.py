"""The quick balance: /balance, the Balance button and the inline card."""

from __future__ import annotations

from aiogram.types import InlineQueryResultArticle, InputTextMessageContent

from bot.i18n import Translator
from bot.keyboards.menu import balance_keyboard
from bot.screens.base import Screen
from bot.services.cashback import Wallet


def wallet_text(t: Translator, wallet: Wallet) -> str:
    """Certificates, then cashback as /cashback names it: available, on hold until a date,
    pending until receipt (the last two only when there is some)."""
    lines = [
        t(
            "balance-text",
            balance=t.money(wallet.balance),
            count=wallet.certificates,
            available=t.money(wallet.available),
        )
    ]
    upcoming = wallet.next_release
    if wallet.on_hold.minor and upcoming is not None and upcoming.hold_until is not None:
        lines.append(
            t(
                "balance-cashback-on-hold",
                amount=t.money(wallet.on_hold),
                date=t.moment(upcoming.hold_until),
            )
        )
    if wallet.pending.minor:
        lines.append(t("balance-cashback-pending", amount=t.money(wallet.pending)))
    return "\n".join(lines)


def balance(t: Translator, wallet: Wallet) -> Screen:
    return Screen(wallet_text(t, wallet), balance_keyboard(t))


def inline_card(t: Translator, wallet: Wallet) -> InlineQueryResultArticle:
    """``@bot`` in any chat: the same text, to share."""
    return InlineQueryResultArticle(
        id="balance",
        title=t("inline-balance-title", balance=t.money(wallet.balance), count=wallet.certificates),
        description=t(
            "inline-balance-description",
            available=t.money(wallet.available),
            on_hold=t.money(wallet.on_hold),
            pending=t.money(wallet.pending),
        ),
        input_message_content=InputTextMessageContent(message_text=wallet_text(t, wallet)),
    )
