"""Stars reconciliation's rule: Telegram's statement (getStarTransactions) and balance
(getMyStarBalance) against the ledger's purchases and returned second charges. The statement
itself is fetched by the runtime (``bot/runtime/reconcile.py``), which needs the Bot.

Amounts are in billionths of a Star (Telegram's ``nanostar_amount``): a charge is a whole number
of Stars, but what reaches the bot after an affiliate's commission need not be.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.models import PurchaseStatus, ReturnStatus
from bot.services.certificates import STARS
from bot.storage.database import Database

NANOS = 1_000_000_000  # billionths of a Star in one Star


@dataclass(frozen=True, slots=True)
class StarMovement:
    """A line of Telegram's Stars statement with a buyer: a charge, or its refund (Telegram gives
    a refund the id of the charge it refunds)."""

    charge_id: str
    refund: bool
    user_id: int | None
    nanos: int  # what the bot's balance gained (charge) or lost (refund), always positive
    commission: int = 0  # the referring affiliate's share; negative on a refund, as Telegram gives

    @property
    def charged(self) -> int:
        """What the buyer paid or got back: the bot's part plus the affiliate's."""
        return self.nanos + abs(self.commission)


@dataclass(frozen=True, slots=True)
class StarTransfer:
    """A line with no buyer: a withdrawal to Fragment, Telegram Ads, paid API use, a commission
    the bot earned as another program's affiliate. ``nanos`` is signed: positive comes in."""

    kind: str
    nanos: int


@dataclass(frozen=True, slots=True)
class StarsStatement:
    movements: Sequence[StarMovement]
    transfers: Sequence[StarTransfer] = ()
    balance: int | None = None  # Telegram's, or None when it moved while the statement was read


@dataclass(frozen=True, slots=True)
class Discrepancy:
    # "uncredited", "unreversed", "unknown_to_telegram", "unreturned", "amount", "balance"
    kind: str
    charge_id: str
    user_id: int | None
    nanos: int  # the line's amount; for "amount" and "balance", Telegram's less the ledger's


@dataclass(frozen=True, slots=True)
class StarsBooks:
    """The bot's Stars account: what the ledger collected and refunded, what the statement
    paid to affiliates and moved without a buyer, and what Telegram says is left."""

    collected: int
    refunded: int
    commissions: int  # an expense: paid out of the charges, less what refunds took back
    transfers: Mapping[str, int] = field(default_factory=dict)
    balance: int | None = None

    @property
    def income(self) -> int:
        return self.collected - self.refunded - self.commissions

    @property
    def expected(self) -> int:
        """The balance the books call for."""
        return self.income + sum(self.transfers.values())


@dataclass(frozen=True, slots=True)
class StarsReport:
    problems: list[Discrepancy]
    books: StarsBooks


class Reconciliation:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def compare(self, statement: StarsStatement) -> StarsReport:
        """Telegram's statement against the ledger, line by line, then the balance: a charge
        never credited, a refund never reversed, a credit Telegram does not know, a second
        payment not returned yet, a charge of another amount, a balance the books don't explain."""
        movements = statement.movements
        charges = {m.charge_id: m for m in movements if not m.refund}
        refunds = {m.charge_id: m for m in movements if m.refund}
        # Every Stars charge the ledger holds, and every second payment: the books need them
        # all, and the statement's lines are looked up among them.
        async with self.db.read() as uow:
            credited = await uow.certificates.charges(STARS)
            every_return = await uow.certificates.returned_in(STARS)
        known = {purchase.telegram_charge_id: purchase for purchase in credited}
        returned = {charge.charge_id: charge for charge in every_return}
        problems = []
        for charge_id, movement in charges.items():
            user_id = movement.user_id
            if charge_id in returned:  # a second payment: accounted for once it went back
                if charge_id not in refunds:
                    problems.append(Discrepancy("unreturned", charge_id, user_id, movement.charged))
                continue
            purchase = known.get(charge_id)
            if purchase is None or purchase.status == PurchaseStatus.CREATED:
                problems.append(Discrepancy("uncredited", charge_id, user_id, movement.charged))
            elif movement.charged != purchase.invoice_amount * NANOS:
                difference = movement.charged - purchase.invoice_amount * NANOS
                problems.append(Discrepancy("amount", charge_id, user_id, difference))
        for charge_id, movement in refunds.items():
            purchase = known.get(charge_id)
            if purchase is not None and purchase.status != PurchaseStatus.REFUNDED:
                problems.append(
                    Discrepancy("unreversed", charge_id, movement.user_id, movement.charged)
                )
        for purchase in credited:
            charge_id = purchase.telegram_charge_id or ""
            if charge_id not in charges:
                problems.append(
                    Discrepancy(
                        "unknown_to_telegram",
                        charge_id,
                        purchase.user_id,
                        purchase.invoice_amount * NANOS,
                    )
                )
        transfers: defaultdict[str, int] = defaultdict(int)
        for transfer in statement.transfers:
            transfers[transfer.kind] += transfer.nanos
        books = StarsBooks(
            collected=NANOS
            * (
                sum(purchase.invoice_amount for purchase in credited)
                + sum(charge.amount for charge in every_return)
            ),
            refunded=NANOS
            * (
                sum(p.invoice_amount for p in credited if p.status == PurchaseStatus.REFUNDED)
                + sum(c.amount for c in every_return if c.status == ReturnStatus.RETURNED)
            ),
            commissions=sum(movement.commission for movement in movements),
            transfers=dict(transfers),
            balance=statement.balance,
        )
        if books.balance is not None and books.balance != books.expected:
            problems.append(Discrepancy("balance", "", None, books.balance - books.expected))
        return StarsReport(problems, books)
