"""Stars reconciliation's rule: Telegram's statement (getStarTransactions) against the ledger's
purchases and returned second charges. The statement itself is fetched by the runtime
(``bot/runtime/reconcile.py``), which needs the Bot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.models import PurchaseStatus
from bot.services.certificates import STARS
from bot.storage.database import Database


@dataclass(frozen=True, slots=True)
class StarMovement:
    """One line of Telegram's Stars statement (getStarTransactions), as reconciliation needs it."""

    charge_id: str
    refund: bool  # Telegram gives a refund the id of the charge it refunds
    stars: int
    user_id: int | None


@dataclass(frozen=True, slots=True)
class Discrepancy:
    kind: str  # "uncredited", "unreversed", "unknown_to_telegram", "unreturned"
    charge_id: str
    user_id: int | None
    stars: int


class Reconciliation:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def compare(self, movements: Sequence[StarMovement]) -> list[Discrepancy]:
        """Telegram's statement against the ledger: a charge never credited, a refund never
        reversed, a credit Telegram does not know, or a second payment not returned yet."""
        charges = {m.charge_id: m for m in movements if not m.refund}
        refunds = {m.charge_id: m for m in movements if m.refund}
        async with self.db.read() as uow:
            known = await uow.certificates.purchases_by_charges(
                sorted(charges.keys() | refunds.keys())
            )
            returned = await uow.certificates.returned_charges(sorted(charges.keys()))
            credited = await uow.certificates.charges(STARS)
        problems = []
        for charge_id, movement in charges.items():
            if charge_id in returned:  # a second payment: accounted for once it went back
                if charge_id not in refunds:
                    problems.append(
                        Discrepancy("unreturned", charge_id, movement.user_id, movement.stars)
                    )
                continue
            purchase = known.get(charge_id)
            if purchase is None or purchase.status == PurchaseStatus.CREATED:
                problems.append(
                    Discrepancy("uncredited", charge_id, movement.user_id, movement.stars)
                )
        for charge_id, movement in refunds.items():
            purchase = known.get(charge_id)
            if purchase is not None and purchase.status != PurchaseStatus.REFUNDED:
                problems.append(
                    Discrepancy("unreversed", charge_id, movement.user_id, movement.stars)
                )
        for purchase in credited:
            charge_id = purchase.telegram_charge_id or ""
            if charge_id not in charges:
                problems.append(
                    Discrepancy(
                        "unknown_to_telegram", charge_id, purchase.user_id, purchase.invoice_amount
                    )
                )
        return problems
