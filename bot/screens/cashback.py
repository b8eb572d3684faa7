"""Cashback as a person reads it: where each accrual stands, with its date."""

from __future__ import annotations

from bot.domain.models import Accrual
from bot.i18n import Translator


def accrual_state(t: Translator, accrual: Accrual) -> str:
    """Where an accrual stands, with its date: what users of cashback services ask first."""
    if accrual.status == "on_hold" and accrual.hold_until is not None:
        return t("accrual-on-hold", date=t.date(accrual.hold_until))
    if accrual.status == "available":
        return t("accrual-available", date=t.date(accrual.available_at or accrual.created_at))
    if accrual.status == "voided":
        reason = (accrual.reason or "other").replace("_", "-")
        return t("accrual-voided", reason=t(f"accrual-reason-{reason}"))
    return t("accrual-pending")
