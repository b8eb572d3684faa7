"""The double-entry ledger: accounts, entries, postings. The only SQL the ledger has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.storage.session import Session

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
    def __init__(self, session: Session) -> None:
        self.session = session

    async def size(self) -> tuple[int, int]:
        """(users, entries): what a backup or a restore reports it holds."""
        row = await self.session.fetchrow(
            "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM entries)"
        )
        assert row is not None
        return int(row[0]), int(row[1])

    # --- accounts ---------------------------------------------------------------------------

    async def ensure_user_accounts(self, user_ids: Iterable[int], currency: str) -> None:
        await self.session.executemany(
            "INSERT INTO accounts (user_id, kind, currency) VALUES ($1, $2, $3)"
            " ON CONFLICT (user_id, kind) WHERE user_id IS NOT NULL DO NOTHING",
            [(user_id, kind, currency) for user_id in user_ids for kind in USER_ACCOUNT_KINDS],
        )

    async def ensure_system_accounts(self, currency: str) -> None:
        await self.session.executemany(
            "INSERT INTO accounts (user_id, kind, currency, allow_negative)"
            " VALUES (NULL, $1, $2, TRUE)"
            " ON CONFLICT (kind) WHERE user_id IS NULL DO NOTHING",
            [(kind, currency) for kind in SYSTEM_ACCOUNT_KINDS],
        )

    async def account_ids(
        self, refs: Iterable[tuple[str, int | None]]
    ) -> dict[tuple[str, int | None], int]:
        """Resolve (kind, user_id) pairs to account ids in one query.

        ``user_id = $n`` and ``user_id IS NULL`` each match one of the two partial unique
        indexes; ``user_id IS $n`` would match neither and scan the table.
        """
        clauses: list[str] = []
        params: list[object] = []
        for kind, user_id in dict.fromkeys(refs):
            params.append(kind)
            if user_id is None:
                clauses.append(f"(kind = ${len(params)} AND user_id IS NULL)")
            else:
                params.append(user_id)
                clauses.append(f"(kind = ${len(params) - 1} AND user_id = ${len(params)})")
        rows = await self.session.fetch(
            f"SELECT id, kind, user_id FROM accounts WHERE {' OR '.join(clauses)}", *params
        )
        return {(row["kind"], row["user_id"]): row["id"] for row in rows}

    async def user_balances(self, user_id: int) -> dict[str, int]:
        rows = await self.session.fetch(
            "SELECT kind, balance FROM accounts WHERE user_id = $1", user_id
        )
        return {row["kind"]: row["balance"] for row in rows}

    async def nonzero_balances(self, kind: str) -> dict[int, int]:
        """Every user whose account of ``kind`` holds money, with the amount."""
        rows = await self.session.fetch(
            "SELECT user_id, balance FROM accounts"
            " WHERE kind = $1 AND user_id IS NOT NULL AND balance <> 0",
            kind,
        )
        return {int(row["user_id"]): int(row["balance"]) for row in rows}

    # --- entries ----------------------------------------------------------------------------

    async def find_entry(self, key: str) -> StoredEntry | None:
        row = await self.session.fetchrow(
            "SELECT id, fingerprint FROM entries WHERE idempotency_key = $1", key
        )
        return StoredEntry(row["id"], row["fingerprint"]) if row else None

    async def insert_entry(
        self,
        *,
        key: str,
        kind: str,
        user_id: int | None,
        fingerprint: str,
        created_at: datetime,
        update_id: int | None = None,
    ) -> int | None:
        """The new entry's id, or None when the key is taken (the unique index decides)."""
        entry_id = await self.session.fetchval(
            "INSERT INTO entries (idempotency_key, kind, user_id, fingerprint, created_at,"
            " update_id) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            key,
            kind,
            user_id,
            fingerprint,
            created_at,
            update_id,
        )
        return int(entry_id) if entry_id is not None else None

    async def of_update(self, update_id: int) -> list[tuple[str, str]]:
        """(kind, key) of the entries an update wrote, oldest first."""
        rows = await self.session.fetch(
            "SELECT kind, idempotency_key FROM entries WHERE update_id = $1 ORDER BY id",
            update_id,
        )
        return [(str(row[0]), str(row[1])) for row in rows]

    async def post(self, entry_id: int, legs: Sequence[tuple[int, int]]) -> None:
        """Apply (account_id, amount) legs in the given order, then write their postings.

        The conditional update keeps user accounts >= 0, and on PostgreSQL it also waits for a
        concurrent writer of the same row and re-checks against its committed balance.
        """
        postings: list[tuple[int, int, int, int]] = []
        for account_id, amount in legs:
            balance = await self.session.fetchval(
                "UPDATE accounts SET balance = balance + $1"
                " WHERE id = $2 AND (allow_negative OR balance + $1 >= 0)"
                " RETURNING balance",
                amount,
                account_id,
            )
            if balance is None:
                current = await self.session.fetchval(
                    "SELECT balance FROM accounts WHERE id = $1", account_id
                )
                raise NegativeBalanceError(account_id, int(current or 0), amount)
            postings.append((entry_id, account_id, amount, int(balance)))
        await self.session.executemany(
            "INSERT INTO postings (entry_id, account_id, amount, balance_after)"
            " VALUES ($1, $2, $3, $4)",
            postings,
        )

    # --- reading ----------------------------------------------------------------------------

    async def history(self, user_id: int, limit: int, before_entry: int | None) -> list[PostingRow]:
        """A user's postings, newest first, paged by entry id."""
        rows = await self.session.fetch(
            """
            SELECT p.entry_id, e.kind, a.kind AS account_kind, p.amount, p.balance_after,
                   e.created_at
            FROM accounts a
            JOIN postings p ON p.account_id = a.id
            JOIN entries e ON e.id = p.entry_id
            WHERE a.user_id = $1 AND p.entry_id < $2
            ORDER BY p.id DESC
            LIMIT $3
            """,
            user_id,
            before_entry if before_entry is not None else 2**62,
            limit,
        )
        return [
            PostingRow(
                entry_id=row["entry_id"],
                kind=row["kind"],
                account_kind=row["account_kind"],
                amount=row["amount"],
                balance_after=row["balance_after"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    async def journal(self, limit: int) -> list[JournalRow]:
        """The newest ``limit`` entries with all their postings, newest entry first."""
        rows = await self.session.fetch(
            """
            SELECT e.id, e.idempotency_key, e.kind, e.user_id, e.created_at,
                   a.kind AS account_kind, a.user_id AS account_user_id, p.amount
            FROM (SELECT * FROM entries ORDER BY id DESC LIMIT $1) e
            JOIN postings p ON p.entry_id = e.id
            JOIN accounts a ON a.id = p.account_id
            ORDER BY e.id DESC, p.id
            """,
            limit,
        )
        return [
            JournalRow(
                entry_id=row["id"],
                idempotency_key=row["idempotency_key"],
                kind=row["kind"],
                user_id=row["user_id"],
                created_at=row["created_at"],
                account_kind=row["account_kind"],
                account_user_id=row["account_user_id"],
                amount=row["amount"],
            )
            for row in rows
        ]

    # --- invariants -------------------------------------------------------------------------

    async def unbalanced_entries(self) -> list[tuple[int, int]]:
        rows = await self.session.fetch(
            "SELECT entry_id, SUM(amount) FROM postings"
            " GROUP BY entry_id HAVING SUM(amount) <> 0 OR COUNT(*) < 2"
        )
        return [(row[0], int(row[1])) for row in rows]

    async def entries_without_postings(self) -> list[int]:
        rows = await self.session.fetch(
            "SELECT e.id FROM entries e"
            " WHERE NOT EXISTS (SELECT 1 FROM postings p WHERE p.entry_id = e.id)"
        )
        return [row[0] for row in rows]

    async def drifted_accounts(self) -> list[tuple[int, int, int]]:
        """Accounts whose cached balance differs from the sum of their postings."""
        rows = await self.session.fetch(
            """
            SELECT a.id, a.balance, COALESCE(SUM(p.amount), 0)
            FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
            GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(p.amount), 0)
            """
        )
        return [(row[0], row[1], int(row[2])) for row in rows]

    async def negative_user_accounts(self) -> list[tuple[int, int]]:
        rows = await self.session.fetch(
            "SELECT id, balance FROM accounts WHERE user_id IS NOT NULL AND balance < 0"
        )
        return [(row[0], row[1]) for row in rows]

    async def negative_postings(self) -> list[int]:
        """Postings that left a user account below zero at any moment in its history."""
        rows = await self.session.fetch(
            "SELECT p.id FROM postings p JOIN accounts a ON a.id = p.account_id"
            " WHERE a.user_id IS NOT NULL AND p.balance_after < 0"
        )
        return [row[0] for row in rows]
