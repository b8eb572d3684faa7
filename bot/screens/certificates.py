"""Certificates and the Stars that pay for them, as people read them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.money import Money
from bot.i18n import Translator
from bot.screens.base import Screen
from bot.services.certificates import STARS
from bot.services.reconciliation import StarsBooks


def invoice_price(t: Translator, currency: str, amount: int) -> str:
    """An invoice's price: Stars, or minor units of a currency."""
    if currency == STARS:
        return t("price-stars", stars=amount)
    return t.money(Money(amount, currency))


def reconcile_report(ops: Translator, differences: Sequence[Sequence[object]]) -> Screen:
    """Stars reconciliation's differences: (kind, charge id, user id, billionths of a Star)."""
    lines = []
    for kind, charge_id, user_id, nanos in differences:
        signed = kind in ("amount", "balance")  # Telegram's less the ledger's
        lines.append(
            ops(
                f"ops-discrepancy-{str(kind).replace('_', '-')}",
                charge_id=str(charge_id),
                user_id=str(user_id),
                stars=ops.stars(int(str(nanos)), signed=signed),
            )
        )
    return Screen(ops("ops-reconcile-report", lines=ops.lines(lines)))


def stars_books(t: Translator, books: StarsBooks) -> str:
    """The bot's Stars account, for the operator who asked for a reconciliation."""
    transfers = [
        t("admin-stars-transfer", kind=kind, amount=t.stars(nanos, signed=True))
        for kind, nanos in sorted(books.transfers.items())
    ]
    return t(
        "admin-stars-books",
        collected=t.stars(books.collected),
        refunded=t.stars(-books.refunded),
        commissions=t.stars(-books.commissions),
        income=t.stars(books.income),
        transfers=t.lines(transfers) if transfers else t("admin-stars-no-transfers"),
        expected=t.stars(books.expected),
        balance=(
            t("admin-stars-balance-moving") if books.balance is None else t.stars(books.balance)
        ),
    )
