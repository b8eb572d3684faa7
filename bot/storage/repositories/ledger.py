"""The double-entry ledger: accounts, entries, postings. The only SQL the ledger has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.database import Database

USER_ACCOUNT_KINDS = ("balance", "cashback_pending", "cashback_available")
SYSTEM_ACCOUNT_KINDS = (
    "telegram_payments",
    "orders",
    "cashback_expense",
    "withdrawals",
    "gift_escrow",
)


class NegativeBalanceError(Exception):
    """A posting would take a user account below zero; the transaction must roll back."""

    def __init__(self, account_id: int, balance: int, amount: int) -> None:
        self.account_id = account_id
        self.balance = balance
        self.amount = amount
        super().__init__(account_id, balance, amount)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    id: int
    fingerprint: str


@dataclass(frozen=True, slots=True)
class PostingRow:
    entry_id: int
    kind: str
    account_kind: str
    amount: int
    balance_after: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class JournalRow:
    entry_id: int
    idempotency_key: str
    kind: str
    user_id: int | None
    created_at: datetime
    account_kind: str
    account_user_id: int | None
    amount: int


class LedgerRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- accounts ---------------------------------------------------------------------------

    async def ensure_user_accounts(
        self, conn: aiosqlite.Connection, user_id: int, currency: str
    ) -> None:
        await conn.executemany(
            "INSERT INTO accounts (user_id, kind, currency) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id, kind) WHERE user_id IS NOT NULL DO NOTHING",
            [(user_id, kind, currency) for kind in USER_ACCOUNT_KINDS],
        )

    async def ensure_system_accounts(self, conn: aiosqlite.Connection, currency: str) -> None:
        await conn.executemany(
            "INSERT INTO accounts (user_id, kind, currency, allow_negative) VALUES (NULL, ?, ?, 1)"
            " ON CONFLICT (kind) WHERE user_id IS NULL DO NOTHING",
            [(kind, currency) for kind in SYSTEM_ACCOUNT_KINDS],
        )

    async def account_ids(
        self, conn: aiosqlite.Connection, refs: Iterable[tuple[str, int | None]]
    ) -> dict[tuple[str, int | None], int]:
        """Resolve (kind, user_id) pairs to account ids in one query."""
        wanted = list(dict.fromkeys(refs))
        clauses = " OR ".join("(kind = ? AND user_id IS ?)" for _ in wanted)
        params: list[object] = []
        for kind, user_id in wanted:
            params += [kind, user_id]
        async with conn.execute(
            f"SELECT id, kind, user_id FROM accounts WHERE {clauses}", params
        ) as cursor:
            rows = await cursor.fetchall()
        return {(row["kind"], row["user_id"]): row["id"] for row in rows}

    async def user_balances(self, user_id: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT kind, balance FROM accounts WHERE user_id = ?", (user_id,)
        )
        return {row["kind"]: row["balance"] for row in rows}

    async def user_balances_in(self, conn: aiosqlite.Connection, user_id: int) -> dict[str, int]:
        async with conn.execute(
            "SELECT kind, balance FROM accounts WHERE user_id = ?", (user_id,)
        ) as cursor:
            rows = await cursor.fetchall()
        return {row["kind"]: row["balance"] for row in rows}

    # --- entries ----------------------------------------------------------------------------

    async def find_entry(self, conn: aiosqlite.Connection, key: str) -> StoredEntry | None:
        async with conn.execute(
            "SELECT id, fingerprint FROM entries WHERE idempotency_key = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        return StoredEntry(row["id"], row["fingerprint"]) if row else None

    async def insert_entry(
        self,
        conn: aiosqlite.Connection,
        *,
        key: str,
        kind: str,
        user_id: int | None,
        fingerprint: str,
        created_at: datetime,
    ) -> int:
        async with conn.execute(
            "INSERT INTO entries (idempotency_key, kind, user_id, fingerprint, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (key, kind, user_id, fingerprint, created_at.isoformat()),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def post(
        self, conn: aiosqlite.Connection, entry_id: int, legs: Sequence[tuple[int, int]]
    ) -> None:
        """Apply (account_id, amount) legs: the conditional update keeps user accounts >= 0."""
        for account_id, amount in legs:
            async with conn.execute(
                "UPDATE accounts SET balance = balance + ?"
                " WHERE id = ? AND (allow_negative = 1 OR balance + ? >= 0)"
                " RETURNING balance",
                (amount, account_id, amount),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                async with conn.execute(
                    "SELECT balance FROM accounts WHERE id = ?", (account_id,)
                ) as cursor:
                    current = await cursor.fetchone()
                raise NegativeBalanceError(account_id, int(current[0]) if current else 0, amount)
            await conn.execute(
                "INSERT INTO postings (entry_id, account_id, amount, balance_after)"
                " VALUES (?, ?, ?, ?)",
                (entry_id, account_id, amount, int(row[0])),
            )

    # --- reading ----------------------------------------------------------------------------

    async def history(self, user_id: int, limit: int, before_entry: int | None) -> list[PostingRow]:
        """A user's postings, newest first, paged by entry id."""
        rows = await self.db.fetchall(
            """
            SELECT p.entry_id, e.kind, a.kind AS account_kind, p.amount, p.balance_after,
                   e.created_at
            FROM accounts a
            JOIN postings p ON p.account_id = a.id
            JOIN entries e ON e.id = p.entry_id
            WHERE a.user_id = ? AND p.entry_id < ?
            ORDER BY p.id DESC
            LIMIT ?
            """,
            (user_id, before_entry if before_entry is not None else 2**62, limit),
        )
        return [
            PostingRow(
                entry_id=row["entry_id"],
                kind=row["kind"],
                account_kind=row["account_kind"],
                amount=row["amount"],
                balance_after=row["balance_after"],
                created_at=datetime.fromisoformat(row["created_at"]),
            )
            for row in rows
        ]

    async def journal(self, limit: int) -> list[JournalRow]:
        """The newest ``limit`` entries with all their postings, newest entry first."""
        rows = await self.db.fetchall(
            """
            SELECT e.id, e.idempotency_key, e.kind, e.user_id, e.created_at,
                   a.kind AS account_kind, a.user_id AS account_user_id, p.amount
            FROM (SELECT * FROM entries ORDER BY id DESC LIMIT ?) e
            JOIN postings p ON p.entry_id = e.id
            JOIN accounts a ON a.id = p.account_id
            ORDER BY e.id DESC, p.id
            """,
            (limit,),
        )
        return [
            JournalRow(
                entry_id=row["id"],
                idempotency_key=row["idempotency_key"],
                kind=row["kind"],
                user_id=row["user_id"],
                created_at=datetime.fromisoformat(row["created_at"]),
                account_kind=row["account_kind"],
                account_user_id=row["account_user_id"],
                amount=row["amount"],
            )
            for row in rows
        ]

    # --- invariants -------------------------------------------------------------------------

    async def unbalanced_entries(self) -> list[tuple[int, int]]:
        rows = await self.db.fetchall(
            "SELECT entry_id, SUM(amount) AS total FROM postings"
            " GROUP BY entry_id HAVING total <> 0 OR COUNT(*) < 2"
        )
        return [(row[0], row[1]) for row in rows]

    async def drifted_accounts(self) -> list[tuple[int, int, int]]:
        """Accounts whose cached balance differs from the sum of their postings."""
        rows = await self.db.fetchall(
            """
            SELECT a.id, a.balance, COALESCE(SUM(p.amount), 0) AS total
            FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
            GROUP BY a.id HAVING a.balance <> total
            """
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def negative_user_accounts(self) -> list[tuple[int, int]]:
        rows = await self.db.fetchall(
            "SELECT id, balance FROM accounts WHERE user_id IS NOT NULL AND balance < 0"
        )
        return [(row[0], row[1]) for row in rows]

    async def negative_postings(self) -> list[int]:
        """Postings that left a user account below zero at any moment in its history."""
        rows = await self.db.fetchall(
            "SELECT p.id FROM postings p JOIN accounts a ON a.id = p.account_id"
            " WHERE a.user_id IS NOT NULL AND p.balance_after < 0"
        )
        return [row[0] for row in rows]
