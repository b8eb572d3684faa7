"""Certificates and the Stars that pay for them, as people read them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.money import Money
from bot.i18n import Translator
from bot.screens.base import Screen
from bot.services.certificates import STARS


def invoice_price(t: Translator, currency: str, amount: int) -> str:
    """An invoice's price: Stars, or minor units of a currency."""
    if currency == STARS:
        return t("price-stars", stars=amount)
    return t.money(Money(amount, currency))


def reconcile_report(ops: Translator, problems: Sequence[Sequence[object]]) -> Screen:
    """Stars reconciliation's differences: (kind, charge id, user id, stars) each."""
    lines = [
        ops(
            f"ops-discrepancy-{str(kind).replace('_', '-')}",
            charge_id=str(charge_id),
            user_id=str(user_id),
            stars=stars,
        )
        for kind, charge_id, user_id, stars in problems
    ]
    return Screen(ops("ops-reconcile-report", lines=ops.lines(lines)))
