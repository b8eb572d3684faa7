"""Support as the operators see it."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.models import Purchase
from bot.i18n import Translator
from bot.screens.base import Screen
from bot.screens.certificates import invoice_price


def payment_ticket(
    ops: Translator, ticket: str, user_id: str, name: str, charges: Sequence[Purchase]
) -> Screen:
    """A payment-support ticket with the user's latest charges, to answer by replying."""
    lines = [
        ops(
            "ops-charge-line",
            charge_id=charge.telegram_charge_id or "",
            amount=ops.money(charge.amount),
            price=invoice_price(ops, charge.invoice_currency, charge.invoice_amount),
            status=str(charge.status),
            date=ops.datetime(charge.paid_at or charge.created_at),
        )
        for charge in charges
    ]
    text = ops(
        "ops-paysupport",
        ticket=ticket,
        user_id=user_id,
        name=name,
        charges=ops.lines(lines) or ops("ops-no-charges"),
    )
    return Screen(text)
