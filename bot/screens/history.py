"""A movement of money as a person reads it: what it was, on which account."""

from __future__ import annotations

import csv
import io

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
CSV_COLUMNS = (
    "date",
    "entry",
    "operation",
    "description",
    "account",
    "amount",
    "currency",
    "balance_after",
)


def describe(t: Translator, item: HistoryItem) -> str:
    kind = item.kind if item.kind in KNOWN_KINDS else "other"
    return t(f"history-kind-{kind.replace('_', '-')}")


def account_name(t: Translator, item: HistoryItem) -> str:
    return t(f"history-account-{item.account.replace('_', '-')}")


def history_csv(t: Translator, items: list[HistoryItem]) -> bytes:
    """Every posting, oldest first, as CSV: each account's amounts sum to its balance."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(
            [
                item.created_at.isoformat(),
                item.entry_id,
                item.kind,
                describe(t, item),
                item.account,
                f"{item.amount.as_decimal()}",
                item.amount.currency,
                f"{item.balance_after.as_decimal()}",
            ]
        )
    return buffer.getvalue().encode("utf-8")
