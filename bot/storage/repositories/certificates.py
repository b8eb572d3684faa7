"""Purchases, certificates and gift codes. Amounts are minor units of the ledger currency."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import (
    Certificate,
    CertificateSource,
    Gift,
    GiftStatus,
    Purchase,
    PurchasePurpose,
    PurchaseStatus,
    ReturnedCharge,
    ReturnStatus,
)
from bot.domain.money import Money
from bot.storage.session import Row, Session

_RETURNED = (
    "charge_id, user_id, purchase_id, currency, amount, status, error, created_at, returned_at"
)


def _returned(row: Row) -> ReturnedCharge:
    return ReturnedCharge(
        charge_id=row["charge_id"],
        user_id=row["user_id"],
        purchase_id=row["purchase_id"],
        currency=row["currency"],
        amount=row["amount"],
        status=ReturnStatus(row["status"]),
        error=row["error"],
        created_at=row["created_at"],
        returned_at=row["returned_at"],
    )


_PURCHASE = (
    "id, public_id, user_id, purpose, amount, invoice_currency, invoice_amount, note, status,"
    " telegram_charge_id, provider_charge_id, created_at, paid_at, refunded_at"
)
_CERTIFICATE = "id, user_id, nominal, remaining, source, created_at"
_GIFT = (
    "id, code, giver_id, amount, note, purchase_id, status, claimer_id, created_at, expires_at,"
    " closed_at"
)


def _purchase(row: Row, currency: str) -> Purchase:
    return Purchase(
        id=row["id"],
        public_id=row["public_id"],
        user_id=row["user_id"],
        purpose=PurchasePurpose(row["purpose"]),
        amount=Money(row["amount"], currency),
        invoice_currency=row["invoice_currency"],
        invoice_amount=row["invoice_amount"],
        note=row["note"],
        status=PurchaseStatus(row["status"]),
        telegram_charge_id=row["telegram_charge_id"],
        provider_charge_id=row["provider_charge_id"],
        created_at=row["created_at"],
        paid_at=row["paid_at"],
        refunded_at=row["refunded_at"],
    )


def _certificate(row: Row, currency: str) -> Certificate:
    return Certificate(
        id=row["id"],
        user_id=row["user_id"],
        nominal=Money(row["nominal"], currency),
        remaining=Money(row["remaining"], currency),
        source=CertificateSource(row["source"]),
        created_at=row["created_at"],
    )


def _gift(row: Row, currency: str) -> Gift:
    return Gift(
        id=row["id"],
        code=row["code"],
        giver_id=row["giver_id"],
        amount=Money(row["amount"], currency),
        note=row["note"],
        purchase_id=row["purchase_id"],
        status=GiftStatus(row["status"]),
        claimer_id=row["claimer_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        closed_at=row["closed_at"],
    )


class CertificateRepository:
    def __init__(self, session: Session, currency: str) -> None:
        self.session = session
        self.currency = currency  # the ledger\'s: amounts are read into Money of it

    # --- purchases --------------------------------------------------------------------------

    async def payment_totals(self) -> tuple[int, int, int, int]:
        """Telegram payments ever credited and refunded: (count, minor units) of each."""
        row = await self.session.fetchrow(
            "SELECT COUNT(*) FILTER (WHERE paid_at IS NOT NULL),"
            " COALESCE(SUM(amount) FILTER (WHERE paid_at IS NOT NULL), 0),"
            " COUNT(*) FILTER (WHERE status = 'refunded'),"
            " COALESCE(SUM(amount) FILTER (WHERE status = 'refunded'), 0)"
            " FROM purchases"
        )
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    async def add_purchase(
        self,
        *,
        public_id: str,
        user_id: int,
        purpose: str,
        amount: Money,
        invoice_currency: str,
        invoice_amount: int,
        note: str | None,
        now: datetime,
    ) -> Purchase:
        row = await self.session.fetchrow(
            "INSERT INTO purchases (public_id, user_id, purpose, amount, invoice_currency,"
            " invoice_amount, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            f" RETURNING {_PURCHASE}",
            public_id,
            user_id,
            purpose,
            amount.minor,
            invoice_currency,
            invoice_amount,
            note,
            now,
        )
        assert row is not None
        return _purchase(row, self.currency)

    async def purchase(self, public_id: str) -> Purchase | None:
        row = await self.session.fetchrow(
            f"SELECT {_PURCHASE} FROM purchases WHERE public_id = $1", public_id
        )
        return _purchase(row, self.currency) if row else None

    async def purchase_by_charge(self, charge_id: str) -> Purchase | None:
        row = await self.session.fetchrow(
            f"SELECT {_PURCHASE} FROM purchases WHERE telegram_charge_id = $1", charge_id
        )
        return _purchase(row, self.currency) if row else None

    async def mark_paid(
        self, purchase_id: int, charge_id: str, provider_charge_id: str, now: datetime
    ) -> bool:
        """Only an unpaid purchase: False when this (or another) charge has paid it already."""
        rows = await self.session.fetch(
            "UPDATE purchases SET status = 'paid', telegram_charge_id = $2,"
            " provider_charge_id = $3, paid_at = $4"
            " WHERE id = $1 AND status = 'created' RETURNING id",
            purchase_id,
            charge_id,
            provider_charge_id,
            now,
        )
        return bool(rows)

    async def mark_refunded(self, purchase_id: int, now: datetime) -> bool:
        rows = await self.session.fetch(
            "UPDATE purchases SET status = 'refunded', refunded_at = $2"
            " WHERE id = $1 AND status = 'paid' RETURNING id",
            purchase_id,
            now,
        )
        return bool(rows)

    async def paid_purchases(self, user_id: int, limit: int) -> list[Purchase]:
        """Charges of a user, newest first: what payment support needs to see."""
        rows = await self.session.fetch(
            f"SELECT {_PURCHASE} FROM purchases"
            " WHERE user_id = $1 AND telegram_charge_id IS NOT NULL ORDER BY id DESC LIMIT $2",
            user_id,
            limit,
        )
        return [_purchase(row, self.currency) for row in rows]

    async def purchases_by_charges(self, charge_ids: list[str]) -> dict[str, Purchase]:
        if not charge_ids:
            return {}
        marks = ", ".join(f"${n}" for n in range(1, len(charge_ids) + 1))
        rows = await self.session.fetch(
            f"SELECT {_PURCHASE} FROM purchases WHERE telegram_charge_id IN ({marks})",
            *charge_ids,
        )
        return {row["telegram_charge_id"]: _purchase(row, self.currency) for row in rows}

    # --- second payments of one purchase, returned ---------------------------------------------

    async def add_returned_charge(
        self,
        *,
        charge_id: str,
        user_id: int,
        purchase_id: int,
        currency: str,
        amount: int,
        now: datetime,
    ) -> ReturnedCharge:
        """The charge's row, made once: a redelivery finds the first one."""
        await self.session.execute(
            "INSERT INTO returned_charges (charge_id, user_id, purchase_id, currency, amount,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (charge_id) DO NOTHING",
            charge_id,
            user_id,
            purchase_id,
            currency,
            amount,
            now,
        )
        made = await self.returned_charge(charge_id)
        assert made is not None
        return made

    async def returned_charge(self, charge_id: str) -> ReturnedCharge | None:
        row = await self.session.fetchrow(
            f"SELECT {_RETURNED} FROM returned_charges WHERE charge_id = $1", charge_id
        )
        return _returned(row) if row else None

    async def mark_returned(
        self, charge_id: str, status: ReturnStatus, error: str | None, now: datetime
    ) -> ReturnedCharge | None:
        """Returned (or failed, with Telegram's words); None once it was returned already."""
        row = await self.session.fetchrow(
            "UPDATE returned_charges SET status = $2, error = $3,"
            " returned_at = CASE WHEN $2 = 'returned' THEN $4 ELSE returned_at END"
            f" WHERE charge_id = $1 AND status <> 'returned' RETURNING {_RETURNED}",
            charge_id,
            status.value,
            error,
            now,
        )
        return _returned(row) if row else None

    async def returned_in(self, currency: str) -> list[ReturnedCharge]:
        """Every second payment in ``currency``, returned or not (reconciliation sums them)."""
        rows = await self.session.fetch(
            f"SELECT {_RETURNED} FROM returned_charges WHERE currency = $1 ORDER BY created_at",
            currency,
        )
        return [_returned(row) for row in rows]

    async def charges(self, currency: str) -> list[Purchase]:
        """Every charged purchase in ``currency``, oldest first (reconciliation reads them)."""
        rows = await self.session.fetch(
            f"SELECT {_PURCHASE} FROM purchases WHERE invoice_currency = $1"
            " AND telegram_charge_id IS NOT NULL ORDER BY id",
            currency,
        )
        return [_purchase(row, self.currency) for row in rows]

    # --- certificates -----------------------------------------------------------------------

    async def add_certificate(
        self,
        user_id: int,
        nominal: Money,
        source: str,
        now: datetime,
        *,
        purchase_id: int | None = None,
        gift_id: int | None = None,
    ) -> Certificate:
        row = await self.session.fetchrow(
            "INSERT INTO certificates (user_id, nominal, remaining, source, purchase_id, gift_id,"
            f" created_at) VALUES ($1, $2, $2, $3, $4, $5, $6) RETURNING {_CERTIFICATE}",
            user_id,
            nominal.minor,
            source,
            purchase_id,
            gift_id,
            now,
        )
        assert row is not None
        return _certificate(row, self.currency)

    async def page(self, user_id: int, limit: int, offset: int) -> list[Certificate]:
        """Newest first."""
        rows = await self.session.fetch(
            f"SELECT {_CERTIFICATE} FROM certificates WHERE user_id = $1"
            " ORDER BY id DESC LIMIT $2 OFFSET $3",
            user_id,
            limit,
            offset,
        )
        return [_certificate(row, self.currency) for row in rows]

    async def summary(self, user_id: int) -> tuple[int, int]:
        """(certificates with money left, how many in all)."""
        row = await self.session.fetchrow(
            "SELECT COUNT(*) FILTER (WHERE remaining > 0) AS live, COUNT(*) AS total"
            " FROM certificates WHERE user_id = $1",
            user_id,
        )
        assert row is not None
        return int(row["live"]), int(row["total"])

    async def spendable(self, user_id: int) -> list[Certificate]:
        """Certificates with money left, oldest first: the order spending takes them in."""
        rows = await self.session.fetch(
            f"SELECT {_CERTIFICATE} FROM certificates WHERE user_id = $1 AND remaining > 0"
            " ORDER BY id",
            user_id,
        )
        return [_certificate(row, self.currency) for row in rows]

    async def take(self, certificate_id: int, amount: Money) -> bool:
        """Deduct from one certificate; False when it no longer holds ``amount``."""
        rows = await self.session.fetch(
            "UPDATE certificates SET remaining = remaining - $2"
            " WHERE id = $1 AND remaining >= $2 RETURNING id",
            certificate_id,
            amount.minor,
        )
        return bool(rows)

    async def of_purchase(self, purchase_id: int) -> Certificate | None:
        row = await self.session.fetchrow(
            f"SELECT {_CERTIFICATE} FROM certificates WHERE purchase_id = $1", purchase_id
        )
        return _certificate(row, self.currency) if row else None

    async def drift(self) -> list[tuple[int, int, int]]:
        """(user id, balance account, sum of certificates) wherever the two disagree."""
        rows = await self.session.fetch(
            "SELECT a.user_id, a.balance, COALESCE(c.total, 0) AS total FROM accounts a"
            " LEFT JOIN (SELECT user_id, SUM(remaining) AS total FROM certificates"
            " GROUP BY user_id) c ON c.user_id = a.user_id"
            " WHERE a.kind = 'balance' AND a.user_id IS NOT NULL"
            " AND a.balance <> COALESCE(c.total, 0)"
        )
        return [(int(row[0]), int(row[1]), int(row[2])) for row in rows]

    # --- gifts --------------------------------------------------------------------------------

    async def add_gift(
        self,
        *,
        code: str,
        giver_id: int,
        amount: Money,
        note: str | None,
        purchase_id: int | None,
        now: datetime,
        expires_at: datetime,
    ) -> Gift:
        row = await self.session.fetchrow(
            "INSERT INTO gifts (code, giver_id, amount, note, purchase_id, created_at, expires_at)"
            f" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_GIFT}",
            code,
            giver_id,
            amount.minor,
            note,
            purchase_id,
            now,
            expires_at,
        )
        assert row is not None
        return _gift(row, self.currency)

    async def gift(self, code: str) -> Gift | None:
        row = await self.session.fetchrow(f"SELECT {_GIFT} FROM gifts WHERE code = $1", code)
        return _gift(row, self.currency) if row else None

    async def gift_by_id(self, gift_id: int) -> Gift | None:
        row = await self.session.fetchrow(f"SELECT {_GIFT} FROM gifts WHERE id = $1", gift_id)
        return _gift(row, self.currency) if row else None

    async def gift_of_purchase(self, purchase_id: int) -> Gift | None:
        row = await self.session.fetchrow(
            f"SELECT {_GIFT} FROM gifts WHERE purchase_id = $1", purchase_id
        )
        return _gift(row, self.currency) if row else None

    async def close_gift(
        self, gift_id: int, status: str, now: datetime, claimer_id: int | None = None
    ) -> bool:
        """Only an open gift: of two claimers (or a claim and the expiry) exactly one wins."""
        rows = await self.session.fetch(
            "UPDATE gifts SET status = $2, claimer_id = $3, closed_at = $4"
            " WHERE id = $1 AND status = 'open' RETURNING id",
            gift_id,
            status,
            claimer_id,
            now,
        )
        return bool(rows)

    async def due_gifts(self, now: datetime, limit: int) -> list[Gift]:
        rows = await self.session.fetch(
            f"SELECT {_GIFT} FROM gifts WHERE status = 'open' AND expires_at <= $1"
            " ORDER BY expires_at LIMIT $2",
            now,
            limit,
        )
        return [_gift(row, self.currency) for row in rows]

    async def gifts_of(self, giver_id: int, limit: int) -> list[Gift]:
        rows = await self.session.fetch(
            f"SELECT {_GIFT} FROM gifts WHERE giver_id = $1 ORDER BY id DESC LIMIT $2",
            giver_id,
            limit,
        )
        return [_gift(row, self.currency) for row in rows]

    async def recent_gifts(self, limit: int) -> list[Gift]:
        rows = await self.session.fetch(
            f"SELECT {_GIFT} FROM gifts ORDER BY id DESC LIMIT $1", limit
        )
        return [_gift(row, self.currency) for row in rows]

    # --- wrong gift codes ---------------------------------------------------------------------

    async def code_failures(self, user_id: int) -> tuple[int, datetime, datetime | None] | None:
        row = await self.session.fetchrow(
            "SELECT failures, window_started, locked_until FROM gift_code_failures"
            " WHERE user_id = $1",
            user_id,
        )
        if row is None:
            return None
        return (
            int(row["failures"]),
            row["window_started"],
            row["locked_until"],
        )

    async def save_code_failures(
        self, user_id: int, failures: int, window_started: datetime, locked_until: datetime | None
    ) -> None:
        await self.session.execute(
            "INSERT INTO gift_code_failures (user_id, failures, window_started, locked_until)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET"
            " failures = excluded.failures, window_started = excluded.window_started,"
            " locked_until = excluded.locked_until",
            user_id,
            failures,
            window_started,
            locked_until,
        )
