"""Cashback accruals and withdrawal requests."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from bot.domain.models import (
    Accrual,
    AccrualSource,
    AccrualStatus,
    Withdrawal,
    WithdrawalStatus,
)
from bot.domain.money import Money
from bot.storage.session import Row, Session

_ACCRUAL = (
    "id, user_id, source, order_id, amount, voided, status, reason, created_at, hold_until,"
    " available_at"
)
_WITHDRAWAL = (
    "id, user_id, operation_id, amount, card_id, card_last4, status, reason, decided_by,"
    " created_at, decided_at"
)


# One balance check in one statement: the user's three accounts, what their held accruals sum
# to, how many certificates hold money, and the first held accrual to become available.
_WALLET = (
    "SELECT"
    " COALESCE((SELECT balance FROM accounts WHERE user_id = $1 AND kind = 'balance'), 0)"
    " AS balance,"
    " COALESCE((SELECT balance FROM accounts WHERE user_id = $1 AND kind = 'cashback_pending'),"
    " 0) AS cashback_pending,"
    " COALESCE((SELECT balance FROM accounts WHERE user_id = $1"
    " AND kind = 'cashback_available'), 0) AS cashback_available,"
    " (SELECT COALESCE(SUM(amount), 0) FROM cashback_accruals"
    " WHERE user_id = $1 AND status = 'on_hold') AS on_hold,"
    " (SELECT COUNT(*) FROM certificates WHERE user_id = $1 AND remaining > 0) AS certificates,"
    f" n.* FROM (SELECT 1) AS one LEFT JOIN (SELECT {_ACCRUAL} FROM cashback_accruals"
    " WHERE user_id = $1 AND status = 'on_hold' ORDER BY hold_until, id LIMIT 1) AS n ON true"
)


class WalletFigures(NamedTuple):
    balance: Money
    cashback_pending: Money  # the ledger account: pending and on hold together
    cashback_available: Money
    on_hold: Money
    certificates: int  # those with money left
    next_release: Accrual | None


def _accrual(row: Row, currency: str) -> Accrual:
    return Accrual(
        id=row["id"],
        user_id=row["user_id"],
        source=AccrualSource(row["source"]),
        order_id=row["order_id"],
        amount=Money(row["amount"], currency),
        voided=Money(row["voided"], currency),
        status=AccrualStatus(row["status"]),
        reason=row["reason"],
        created_at=row["created_at"],
        hold_until=row["hold_until"],
        available_at=row["available_at"],
    )


def _withdrawal(row: Row, currency: str) -> Withdrawal:
    return Withdrawal(
        id=row["id"],
        user_id=row["user_id"],
        operation_id=row["operation_id"],
        amount=Money(row["amount"], currency),
        card_id=row["card_id"],
        card_last4=row["card_last4"],
        status=WithdrawalStatus(row["status"]),
        reason=row["reason"],
        decided_by=row["decided_by"],
        created_at=row["created_at"],
        decided_at=row["decided_at"],
    )


class CashbackRepository:
    def __init__(self, session: Session, currency: str) -> None:
        self.session = session
        self.currency = currency  # the ledger\'s: amounts are read into Money of it

    # --- accruals -----------------------------------------------------------------------------

    async def add(
        self,
        *,
        user_id: int,
        source: str,
        amount: Money,
        status: str,
        now: datetime,
        order_id: int | None = None,
        purchase_id: int | None = None,
    ) -> Accrual:
        row = await self.session.fetchrow(
            "INSERT INTO cashback_accruals (user_id, source, order_id, purchase_id, amount,"
            " status, created_at, available_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7)"
            f" RETURNING {_ACCRUAL}",
            user_id,
            source,
            order_id,
            purchase_id,
            amount.minor,
            status,
            now,
            now if status == "available" else None,
        )
        assert row is not None
        return _accrual(row, self.currency)

    async def of_order(self, order_id: int) -> Accrual | None:
        row = await self.session.fetchrow(
            f"SELECT {_ACCRUAL} FROM cashback_accruals WHERE order_id = $1", order_id
        )
        return _accrual(row, self.currency) if row else None

    async def void_part(
        self, accrual_id: int, amount: Money, reason: str, now: datetime
    ) -> Accrual | None:
        """Take ``amount`` off a pending accrual; it is voided, with the reason, at zero."""
        row = await self.session.fetchrow(
            "UPDATE cashback_accruals SET amount = amount - $2, voided = voided + $2,"
            " status = CASE WHEN amount = $2 THEN 'voided' ELSE status END,"
            " reason = $3, updated_at = $4"
            " WHERE id = $1 AND status = 'pending' AND amount >= $2"
            f" RETURNING {_ACCRUAL}",
            accrual_id,
            amount.minor,
            reason,
            now,
        )
        return _accrual(row, self.currency) if row else None

    async def void_purchase(self, purchase_id: int, reason: str, now: datetime) -> None:
        await self.session.execute(
            "UPDATE cashback_accruals SET voided = voided + amount, amount = 0,"
            " status = 'voided', reason = $2, updated_at = $3"
            " WHERE purchase_id = $1 AND status <> 'voided'",
            purchase_id,
            reason,
            now,
        )

    async def hold(self, accrual_id: int, until: datetime, now: datetime) -> Accrual | None:
        row = await self.session.fetchrow(
            "UPDATE cashback_accruals SET status = 'on_hold', hold_until = $2, updated_at = $3"
            f" WHERE id = $1 AND status = 'pending' RETURNING {_ACCRUAL}",
            accrual_id,
            until,
            now,
        )
        return _accrual(row, self.currency) if row else None

    async def release(self, accrual_id: int, now: datetime) -> Accrual | None:
        """on_hold → available, once: of two releasing jobs one gets the row."""
        row = await self.session.fetchrow(
            "UPDATE cashback_accruals SET status = 'available', available_at = $2,"
            " updated_at = $2"
            f" WHERE id = $1 AND status = 'on_hold' RETURNING {_ACCRUAL}",
            accrual_id,
            now,
        )
        return _accrual(row, self.currency) if row else None

    async def due(self, moment: datetime, limit: int) -> list[Accrual]:
        rows = await self.session.fetch(
            f"SELECT {_ACCRUAL} FROM cashback_accruals"
            " WHERE status = 'on_hold' AND hold_until <= $1 ORDER BY hold_until, id LIMIT $2",
            moment,
            limit,
        )
        return [_accrual(row, self.currency) for row in rows]

    async def due_of_user(self, user_id: int, moment: datetime) -> list[Accrual]:
        rows = await self.session.fetch(
            f"SELECT {_ACCRUAL} FROM cashback_accruals WHERE user_id = $1"
            " AND status = 'on_hold' AND hold_until <= $2 ORDER BY id",
            user_id,
            moment,
        )
        return [_accrual(row, self.currency) for row in rows]

    async def wallet(self, user_id: int) -> WalletFigures:
        """What a balance check shows, read at once."""
        row = await self.session.fetchrow(_WALLET, user_id)
        assert row is not None

        def money(column: str) -> Money:
            return Money(int(row[column]), self.currency)

        return WalletFigures(
            balance=money("balance"),
            cashback_pending=money("cashback_pending"),
            cashback_available=money("cashback_available"),
            on_hold=money("on_hold"),
            certificates=int(row["certificates"]),
            next_release=_accrual(row, self.currency) if row["id"] is not None else None,
        )

    async def page(self, user_id: int, limit: int, offset: int) -> tuple[list[Accrual], int]:
        """A page, newest first, and how many there are in all, in one statement."""
        rows = await self.session.fetch(
            f"SELECT {_ACCRUAL}, COUNT(*) OVER () AS total FROM cashback_accruals"
            " WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
            user_id,
            limit,
            offset,
        )
        if rows:
            return [_accrual(row, self.currency) for row in rows], int(rows[0]["total"])
        # Past the last page the window counts nothing: the total needs a count of its own.
        return [], await self.count(user_id) if offset else 0

    async def count(self, user_id: int) -> int:
        value = await self.session.fetchval(
            "SELECT COUNT(*) FROM cashback_accruals WHERE user_id = $1", user_id
        )
        return int(value)

    async def unreleased_by_user(self) -> dict[int, int]:
        """What pending and held accruals add up to, per user: the drift check."""
        rows = await self.session.fetch(
            "SELECT user_id, SUM(amount) AS total FROM cashback_accruals"
            " WHERE status IN ('pending', 'on_hold') GROUP BY user_id"
        )
        return {int(row["user_id"]): int(row["total"]) for row in rows}

    async def everything(self, limit: int) -> list[Accrual]:
        rows = await self.session.fetch(
            f"SELECT {_ACCRUAL} FROM cashback_accruals ORDER BY id DESC LIMIT $1", limit
        )
        return [_accrual(row, self.currency) for row in rows]

    # --- withdrawals --------------------------------------------------------------------------

    async def add_withdrawal(
        self,
        *,
        user_id: int,
        operation_id: str,
        amount: Money,
        card_id: int,
        card_last4: str,
        now: datetime,
    ) -> Withdrawal:
        row = await self.session.fetchrow(
            "INSERT INTO withdrawals (user_id, operation_id, amount, card_id, card_last4,"
            f" created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_WITHDRAWAL}",
            user_id,
            operation_id,
            amount.minor,
            card_id,
            card_last4,
            now,
        )
        assert row is not None
        return _withdrawal(row, self.currency)

    async def withdrawal(self, withdrawal_id: int) -> Withdrawal | None:
        row = await self.session.fetchrow(
            f"SELECT {_WITHDRAWAL} FROM withdrawals WHERE id = $1", withdrawal_id
        )
        return _withdrawal(row, self.currency) if row else None

    async def withdrawal_of_operation(self, operation_id: str) -> Withdrawal | None:
        row = await self.session.fetchrow(
            f"SELECT {_WITHDRAWAL} FROM withdrawals WHERE operation_id = $1", operation_id
        )
        return _withdrawal(row, self.currency) if row else None

    async def decide(
        self, withdrawal_id: int, status: str, reason: str | None, actor_id: int, now: datetime
    ) -> Withdrawal | None:
        """requested → paid or rejected, once."""
        row = await self.session.fetchrow(
            "UPDATE withdrawals SET status = $2, reason = $3, decided_by = $4, decided_at = $5"
            f" WHERE id = $1 AND status = 'requested' RETURNING {_WITHDRAWAL}",
            withdrawal_id,
            status,
            reason,
            actor_id,
            now,
        )
        return _withdrawal(row, self.currency) if row else None

    async def withdrawals(self, limit: int) -> list[Withdrawal]:
        rows = await self.session.fetch(
            f"SELECT {_WITHDRAWAL} FROM withdrawals ORDER BY id DESC LIMIT $1", limit
        )
        return [_withdrawal(row, self.currency) for row in rows]
