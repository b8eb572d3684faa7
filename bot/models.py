"""Records that several layers read: plain values, no behaviour, no storage or aiogram types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.money import Money


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    first_name: str
    client_language: str | None
    language: str | None
    reachable: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserBalances:
    balance: Money
    cashback_pending: Money
    cashback_available: Money


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One posting on one of a user's accounts, as the history screen lists it."""

    entry_id: int
    kind: str
    account: str
    amount: Money
    balance_after: Money
    created_at: datetime
