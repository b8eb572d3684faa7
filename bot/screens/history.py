"""A movement of money as a person reads it: what it was, on which account."""

from __future__ import annotations

from bot.domain.models import HistoryItem
from bot.i18n import Translator

KNOWN_KINDS = (
    "certificate_purchase",
    "gift_purchase",
    "certificate_refund",
    "gift_from_balance",
    "gift_claim",
    "gift_returned",
    "order_payment",
    "order_refund",
    "order_cashback_pending",
    "order_cashback_voided",
    "order_cashback_released",
    "cashback_released",
    "cashback_withdrawal",
    "cashback_withdrawal_rejected",
    "cashback_to_balance",
)
ACCOUNTS = ("balance", "cashback_pending", "cashback_available")


def describe(t: Translator, item: HistoryItem) -> str:
    kind = item.kind if item.kind in KNOWN_KINDS else "other"
    return t(f"history-kind-{kind.replace('_', '-')}")


def account_name(t: Translator, item: HistoryItem) -> str:
    return t(f"history-account-{item.account.replace('_', '-')}")
