"""Orders, their status history and the operators' audit."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Order, OrderEvent, OrderStatus
from bot.domain.money import Money
from bot.storage.session import Row, Session

_ORDER = (
    "id, user_id, title, product_id, quantity, amount, cashback, refunded, status, tracking,"
    " created_at, updated_at, delivered_at"
)


def _order(row: Row, currency: str) -> Order:
    delivered = row["delivered_at"]
    return Order(
        id=row["id"],
        user_id=row["user_id"],
        title=row["title"],
        product_id=row["product_id"],
        quantity=row["quantity"],
        amount=Money(row["amount"], currency),
        cashback=Money(row["cashback"], currency),
        refunded=Money(row["refunded"], currency),
        status=OrderStatus(row["status"]),
        tracking=row["tracking"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        delivered_at=None if delivered is None else delivered,
    )


class OrderRepository:
    def __init__(self, session: Session, currency: str) -> None:
        self.session = session
        self.currency = currency  # the ledger\'s: amounts are read into Money of it

    async def add(
        self,
        *,
        user_id: int,
        title: str,
        product_id: str | None,
        quantity: int,
        amount: Money,
        cashback: Money,
        now: datetime,
        key: str | None,
    ) -> Order | None:
        """The new order; None when ``key`` already made one (see :meth:`by_key`)."""
        row = await self.session.fetchrow(
            "INSERT INTO orders (user_id, title, product_id, quantity, amount, cashback,"
            " created_at, updated_at, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)"
            f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING {_ORDER}",
            user_id,
            title,
            product_id,
            quantity,
            amount.minor,
            cashback.minor,
            now,
            key,
        )
        return _order(row, self.currency) if row else None

    async def by_key(self, key: str) -> Order | None:
        row = await self.session.fetchrow(
            f"SELECT {_ORDER} FROM orders WHERE idempotency_key = $1", key
        )
        return _order(row, self.currency) if row else None

    async def get(self, order_id: int) -> Order | None:
        row = await self.session.fetchrow(f"SELECT {_ORDER} FROM orders WHERE id = $1", order_id)
        return _order(row, self.currency) if row else None

    async def move(
        self,
        order_id: int,
        expected: tuple[str, ...],
        status: str,
        now: datetime,
        *,
        tracking: str | None = None,
        refunded: Money | None = None,
    ) -> Order | None:
        """Change the status only from one of ``expected``: of two racing changes one wins."""
        marks = ", ".join(f"${n}" for n in range(6, 6 + len(expected)))
        row = await self.session.fetchrow(
            "UPDATE orders SET status = $2, updated_at = $3,"
            " tracking = COALESCE($4, tracking), refunded = refunded + $5,"
            " delivered_at = CASE WHEN $2 = 'delivered' THEN $3 ELSE delivered_at END"
            f" WHERE id = $1 AND status IN ({marks}) RETURNING {_ORDER}",
            order_id,
            status,
            now,
            tracking,
            0 if refunded is None else refunded.minor,
            *expected,
        )
        return _order(row, self.currency) if row else None

    async def add_event(
        self, order_id: int, status: str, actor: str, note: str | None, now: datetime
    ) -> None:
        await self.session.execute(
            "INSERT INTO order_events (order_id, status, actor, note, created_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            order_id,
            status,
            actor,
            note,
            now,
        )

    async def events(self, order_id: int) -> list[OrderEvent]:
        rows = await self.session.fetch(
            "SELECT status, actor, note, created_at FROM order_events WHERE order_id = $1"
            " ORDER BY id",
            order_id,
        )
        return [
            OrderEvent(row["status"], row["actor"], row["note"], row["created_at"]) for row in rows
        ]

    async def audit(
        self, actor_id: int, order_id: int, action: str, detail: str | None, now: datetime
    ) -> None:
        await self.session.execute(
            "INSERT INTO order_audit (actor_id, order_id, action, detail, created_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            actor_id,
            order_id,
            action,
            detail,
            now,
        )

    async def page(self, user_id: int, limit: int, offset: int) -> tuple[list[Order], int]:
        """A page, newest first, and how many there are in all, in one statement."""
        rows = await self.session.fetch(
            f"SELECT {_ORDER}, COUNT(*) OVER () AS total FROM orders WHERE user_id = $1"
            " ORDER BY id DESC LIMIT $2 OFFSET $3",
            user_id,
            limit,
            offset,
        )
        if rows:
            return [_order(row, self.currency) for row in rows], int(rows[0]["total"])
        # Past the last page the window counts nothing: the total needs a count of its own.
        return [], await self.count(user_id) if offset else 0

    async def reserve(self, product_id: str, quantity: int, stock: int) -> bool:
        """Reserve ``quantity`` if the stock allows; False when it would oversell."""
        rows = await self.session.fetch(
            # CASTs: PostgreSQL must infer one type for each parameter used twice.
            "INSERT INTO product_stock (product_id, reserved)"
            " SELECT $1, CAST($2 AS INTEGER) WHERE CAST($2 AS INTEGER) <= CAST($3 AS INTEGER)"
            " ON CONFLICT (product_id) DO UPDATE"
            " SET reserved = product_stock.reserved + CAST($2 AS INTEGER)"
            " WHERE product_stock.reserved + CAST($2 AS INTEGER) <= CAST($3 AS INTEGER)"
            " RETURNING reserved",
            product_id,
            quantity,
            stock,
        )
        return bool(rows)

    async def release(self, product_id: str, quantity: int) -> None:
        await self.session.execute(
            "UPDATE product_stock SET reserved = reserved - $2"
            " WHERE product_id = $1 AND reserved >= $2",
            product_id,
            quantity,
        )

    async def reserved(self, product_ids: list[str]) -> dict[str, int]:
        if not product_ids:
            return {}
        marks = ", ".join(f"${n}" for n in range(1, len(product_ids) + 1))
        rows = await self.session.fetch(
            f"SELECT product_id, reserved FROM product_stock WHERE product_id IN ({marks})",
            *product_ids,
        )
        return {row["product_id"]: int(row["reserved"]) for row in rows}

    async def latest_awaiting(self, user_id: int) -> Order | None:
        row = await self.session.fetchrow(
            f"SELECT {_ORDER} FROM orders WHERE user_id = $1 AND status = 'awaiting_payment'"
            " ORDER BY id DESC LIMIT 1",
            user_id,
        )
        return _order(row, self.currency) if row else None

    async def count(self, user_id: int) -> int:
        value = await self.session.fetchval(
            "SELECT COUNT(*) FROM orders WHERE user_id = $1", user_id
        )
        return int(value)

    async def unreminded_before(self, moment: datetime, limit: int) -> list[Order]:
        """Delivered orders, delivered by ``moment``, whose reminder has not gone out."""
        rows = await self.session.fetch(
            f"SELECT {_ORDER} FROM orders WHERE status = 'delivered' AND delivered_at <= $1"
            " AND reminded_at IS NULL ORDER BY delivered_at LIMIT $2",
            moment,
            limit,
        )
        return [_order(row, self.currency) for row in rows]

    async def mark_reminded(self, order_id: int, now: datetime) -> bool:
        """True for the one caller that gets to send the reminder."""
        rows = await self.session.fetch(
            "UPDATE orders SET reminded_at = $1 WHERE id = $2 AND status = 'delivered'"
            " AND reminded_at IS NULL RETURNING id",
            now,
            order_id,
        )
        return bool(rows)

    async def delivered_before(self, moment: datetime, limit: int) -> list[int]:
        rows = await self.session.fetch(
            "SELECT id FROM orders WHERE status = 'delivered' AND delivered_at <= $1"
            " ORDER BY delivered_at LIMIT $2",
            moment,
            limit,
        )
        return [int(row["id"]) for row in rows]
