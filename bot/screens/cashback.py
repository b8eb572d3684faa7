"""Cashback as a person reads it: where each accrual stands, with its date."""

from __future__ import annotations

from bot.domain.models import Accrual
from bot.i18n import Translator
from bot.keyboards.cashback import withdrawal_ops_keyboard
from bot.screens.base import Screen
from bot.services.cashback import WithdrawalView


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


def withdrawal_card(ops: Translator, view: WithdrawalView) -> Screen:
    """A withdrawal request as the operators see it: who asked, and who decided it and how.
    While it waits, Approve and Reject; once decided, no buttons."""
    request = view.request
    text = ops(
        "ops-withdrawal",
        request=request.id,
        user=str(request.user_id),
        name=view.user,
        amount=ops.money(request.amount),
        last4=request.card_last4,
    )
    if request.status == "requested":
        return Screen(text, withdrawal_ops_keyboard(ops, request.id))
    reason = (request.reason or "").replace("_", "-")
    decided = ops(
        f"ops-withdrawal-{request.status}",
        actor=view.actor or "—",
        reason=ops(f"withdrawal-reason-{reason}") if reason else "",
    )
    return Screen(f"{text}\n{decided}")
