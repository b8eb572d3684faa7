"""The double-entry ledger: every balance change is one entry with an idempotency key.

Legs name accounts as ``(kind, user_id)``; system accounts have ``user_id=None``. An entry's
legs sum to zero, user accounts never go negative, and a key applied twice returns the first
result without changing anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import Clock
from bot.domain.errors import IdempotencyConflict, InsufficientFunds
from bot.domain.models import HistoryItem, UserBalances
from bot.domain.money import Money
from bot.domain.provenance import HANDLING_UPDATE
from bot.storage.database import Database, retry_on_conflict
from bot.storage.repositories.ledger import JournalRow, NegativeBalanceError
from bot.storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Account:
    kind: str
    user_id: int | None = None

    @classmethod
    def balance(cls, user_id: int) -> Account:
        return cls("balance", user_id)

    @classmethod
    def cashback_pending(cls, user_id: int) -> Account:
        return cls("cashback_pending", user_id)

    @classmethod
    def cashback_available(cls, user_id: int) -> Account:
        return cls("cashback_available", user_id)

    @classmethod
    def system(cls, kind: str) -> Account:
        return cls(kind, None)


TELEGRAM_PAYMENTS = Account.system("telegram_payments")
ORDERS = Account.system("orders")
CASHBACK_EXPENSE = Account.system("cashback_expense")
WITHDRAWALS = Account.system("withdrawals")
GIFT_ESCROW = Account.system("gift_escrow")


@dataclass(frozen=True, slots=True)
class Leg:
    account: Account
    amount: Money


@dataclass(frozen=True, slots=True)
class EntryResult:
    entry_id: int
    created: bool  # False when the key had already been applied


@dataclass(frozen=True, slots=True)
class JournalEntry:
    entry_id: int
    key: str
    kind: str
    user_id: int | None
    created_at: datetime
    legs: tuple[Leg, ...]


def _fingerprint(kind: str, user_id: int | None, legs: Sequence[Leg]) -> str:
    parts = sorted(f"{leg.account.kind}:{leg.account.user_id}:{leg.amount.minor}" for leg in legs)
    raw = "|".join([kind, str(user_id), *parts])
    return hashlib.sha256(raw.encode()).hexdigest()


class LedgerService:
    """Writes join the caller's unit of work, so an operation's own rows commit with its entry."""

    def __init__(self, db: Database, currency: str, clock: Clock) -> None:
        self.db = db
        self.currency = currency
        self.clock = clock

    def zero(self) -> Money:
        return Money.zero(self.currency)

    @retry_on_conflict()
    async def ensure_system_accounts(self) -> None:
        async with self.db.unit_of_work() as uow:
            await uow.ledger.ensure_system_accounts(self.currency)

    async def open_accounts(self, uow: UnitOfWork, *user_ids: int) -> None:
        """New users' balance and cashback accounts, at zero."""
        await uow.ledger.ensure_user_accounts(user_ids, self.currency)

    # --- writing ----------------------------------------------------------------------------

    async def post_entry(
        self,
        uow: UnitOfWork,
        key: str,
        kind: str,
        legs: Sequence[Leg],
        *,
        user_id: int | None = None,
    ) -> EntryResult:
        """Write one entry; a key seen before returns its first result and changes nothing.

        Raises InsufficientFunds when a user account would go negative; the caller's unit of
        work then rolls back as a whole.
        """
        self._validate(legs)
        fingerprint = _fingerprint(kind, user_id, legs)
        refs = [(leg.account.kind, leg.account.user_id) for leg in legs]
        ids = await uow.ledger.account_ids(refs)
        missing = [ref for ref in refs if ref not in ids]
        if missing:
            raise LookupError(f"no such accounts: {missing}")
        entry_id = await uow.ledger.insert_entry(
            key=key,
            kind=kind,
            user_id=user_id,
            fingerprint=fingerprint,
            created_at=self.clock.now(),
            update_id=HANDLING_UPDATE.get(),
        )
        if entry_id is None:
            existing = await uow.ledger.find_entry(key)
            assert existing is not None
            if existing.fingerprint != fingerprint:
                raise IdempotencyConflict()
            return EntryResult(existing.id, created=False)
        # One fixed order for every writer, so two entries never wait on each other's rows
        # (a deadlock on PostgreSQL); shared system accounts last, to hold their lock briefly.
        ordered = sorted(
            zip(refs, legs, strict=True), key=lambda pair: (pair[0][1] is None, ids[pair[0]])
        )
        try:
            await uow.ledger.post(entry_id, [(ids[ref], leg.amount.minor) for ref, leg in ordered])
        except NegativeBalanceError as short:
            raise InsufficientFunds(
                needed=Money(-short.amount, self.currency),
                available=Money(short.balance, self.currency),
            ) from None
        return EntryResult(entry_id, created=True)

    async def transfer(
        self,
        uow: UnitOfWork,
        key: str,
        kind: str,
        source: Account,
        target: Account,
        amount: Money,
        *,
        user_id: int | None = None,
    ) -> EntryResult:
        if amount.minor <= 0:
            raise ValueError("a transfer moves a positive amount")
        legs = [Leg(source, -amount), Leg(target, amount)]
        return await self.post_entry(uow, key, kind, legs, user_id=user_id)

    def _validate(self, legs: Sequence[Leg]) -> None:
        if len(legs) < 2:
            raise ValueError("an entry needs at least two legs")
        if any(leg.amount.currency != self.currency for leg in legs):
            raise ValueError(f"ledger currency is {self.currency}")
        if any(leg.amount.minor == 0 for leg in legs):
            raise ValueError("a leg must move money")
        if sum(leg.amount.minor for leg in legs) != 0:
            raise ValueError("legs of an entry must sum to zero")
        accounts = [leg.account for leg in legs]
        if len(set(accounts)) != len(accounts):
            raise ValueError("an account appears twice in one entry")

    # --- reading ----------------------------------------------------------------------------

    async def balances(self, user_id: int) -> UserBalances:
        async with self.db.read() as uow:
            return await self.held(uow, user_id)

    async def steps_of_update(self, update_id: int) -> list[tuple[str, str]]:
        """(kind, key) of every entry an update committed: what did happen to the money when
        its answer could not be shown."""
        async with self.db.read() as uow:
            return await uow.ledger.of_update(update_id)

    async def held(self, uow: UnitOfWork, user_id: int) -> UserBalances:
        """What the user's accounts hold, read in ``uow`` (inside a transaction, as it is there)."""
        raw = await uow.ledger.user_balances(user_id)
        return UserBalances(
            balance=Money(raw.get("balance", 0), self.currency),
            cashback_pending=Money(raw.get("cashback_pending", 0), self.currency),
            cashback_available=Money(raw.get("cashback_available", 0), self.currency),
        )

    async def history(
        self, user_id: int, *, limit: int = 20, before_entry: int | None = None
    ) -> list[HistoryItem]:
        async with self.db.read() as uow:
            rows = await uow.ledger.history(user_id, limit, before_entry)
        return [
            HistoryItem(
                entry_id=row.entry_id,
                kind=row.kind,
                account=row.account_kind,
                amount=Money(row.amount, self.currency),
                balance_after=Money(row.balance_after, self.currency),
                created_at=row.created_at,
            )
            for row in rows
        ]

    async def history_page(
        self, user_id: int, *, entries: int = 8, before_entry: int | None = None
    ) -> tuple[list[HistoryItem], int | None]:
        """Whole entries, newest first, and the cursor of the next (older) page, if any.

        A user has at most two postings in one entry (balance and cashback), so three rows per
        entry always cover the page's entries completely.
        """
        items = await self.history(user_id, limit=entries * 3 + 1, before_entry=before_entry)
        kept: list[HistoryItem] = []
        seen: list[int] = []
        for item in items:
            if item.entry_id not in seen:
                if len(seen) == entries:
                    return kept, seen[-1]
                seen.append(item.entry_id)
            kept.append(item)
        return kept, None

    async def full_history(self, user_id: int) -> list[HistoryItem]:
        """Every posting of the user, oldest first (for the CSV export)."""
        everything: list[HistoryItem] = []
        before: int | None = None
        while True:
            page, before = await self.history_page(user_id, entries=500, before_entry=before)
            everything.extend(page)
            if before is None:
                return list(reversed(everything))

    async def journal(self, *, limit: int = 20) -> list[JournalEntry]:
        """The newest entries with their legs, newest first: the operator's view of the books."""
        grouped: dict[int, list[JournalRow]] = {}
        async with self.db.read() as uow:
            rows = await uow.ledger.journal(limit)
        for row in rows:
            grouped.setdefault(row.entry_id, []).append(row)
        return [
            JournalEntry(
                entry_id=entry_id,
                key=rows[0].idempotency_key,
                kind=rows[0].kind,
                user_id=rows[0].user_id,
                created_at=rows[0].created_at,
                legs=tuple(
                    Leg(
                        Account(row.account_kind, row.account_user_id),
                        Money(row.amount, self.currency),
                    )
                    for row in rows
                ),
            )
            for entry_id, rows in grouped.items()
        ]

    async def check_invariants(self) -> list[str]:
        """Every violation of the ledger's invariants, described; empty when all hold."""
        async with self.db.read() as uow:
            repo = uow.ledger
            problems = [
                f"entry {entry_id} sums to {total}"
                for entry_id, total in await repo.unbalanced_entries()
            ]
            problems += [
                f"entry {entry_id} has no postings"
                for entry_id in await repo.entries_without_postings()
            ]
            problems += [
                f"account {account_id} caches {cached} but its postings sum to {total}"
                for account_id, cached, total in await repo.drifted_accounts()
            ]
            problems += [
                f"user account {account_id} is negative: {balance}"
                for account_id, balance in await repo.negative_user_accounts()
            ]
            problems += [
                f"posting {posting_id} left a user account negative"
                for posting_id in await repo.negative_postings()
            ]
        return problems
