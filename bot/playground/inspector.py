"""The inspector pane: what each user holds and the newest records, read through the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.app import Application
from bot.domain.models import Accrual
from bot.emulator import BotAPIEmulator


async def snapshot(app: Application, emulator: BotAPIEmulator) -> dict[str, Any]:
    """Read-only: nothing here writes, so the pane can refresh as often as it likes."""
    t = app.i18n("en")
    balances = []
    for user in emulator.users():
        record = await app.services.users.get(user["id"])
        if record is None:
            continue
        held = await app.services.ledger.balances(user["id"])
        balances.append(
            {
                "id": user["id"],
                "name": user["first_name"],
                "reachable": record.reachable,
                "language": record.language or record.client_language,
                "balance": t.money(held.balance),
                "cashback_available": t.money(held.cashback_available),
                "cashback_pending": t.money(held.cashback_pending),
                "certificates": await app.services.certificates.count(user["id"]),
            }
        )
    certificates = app.services.certificates
    gifts = [
        {
            "code": gift.code,
            "giver_id": gift.giver_id,
            "amount": t.money(gift.amount),
            "status": gift.status,
            "claimer_id": gift.claimer_id,
            "expires": gift.expires_at.isoformat(),
        }
        for gift in await app.services.gifts.recent(10)
    ]
    journal = [
        {
            "id": entry.entry_id,
            "key": entry.key,
            "kind": entry.kind,
            "time": entry.created_at.isoformat(),
            "legs": [
                {
                    "account": leg.account.kind,
                    "user_id": leg.account.user_id,
                    "amount": t.money(leg.amount),
                }
                for leg in entry.legs
            ],
        }
        for entry in await app.services.ledger.journal(limit=15)
    ]
    cashback = app.services.cashback
    accruals = [
        {
            "id": accrual.id,
            "user_id": accrual.user_id,
            "source": f"order #{accrual.order_id}" if accrual.order_id else accrual.source,
            "amount": t.money(accrual.amount or accrual.voided),
            "status": accrual.status,
            "reason": accrual.reason,
            "date": _accrual_date(accrual).isoformat(),
        }
        for accrual in await cashback.recent(12)
    ]
    withdrawals = [
        {
            "id": request.id,
            "user_id": request.user_id,
            "amount": t.money(request.amount),
            "card": request.card_last4,
            "status": request.status,
            "reason": request.reason,
        }
        for request in await cashback.withdrawals(8)
    ]
    outbox = [
        {
            "id": notice.id,
            "chat_id": notice.chat_id,
            "template": notice.template,
            "attempts": notice.attempts,
            "state": state,
            "time": notice.created_at.isoformat(),
        }
        for notice, state in await app.services.notices.recent(12)
    ]
    problems = await app.services.ledger.check_invariants()
    problems += await certificates.drift()
    problems += await cashback.drift()
    return {
        "users": balances,
        "gifts": gifts,
        "accruals": accruals,
        "withdrawals": withdrawals,
        "outbox": outbox,
        "journal": journal,
        "problems": problems,
    }


def _accrual_date(accrual: Accrual) -> datetime:
    """The date that goes with the status: release for a hold, availability, else creation."""
    if accrual.status == "on_hold" and accrual.hold_until is not None:
        return accrual.hold_until
    return accrual.available_at or accrual.created_at
