"""Records that several layers read: plain values, no behaviour, no storage or aiogram types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from bot.domain.money import Money


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    first_name: str
    client_language: str | None
    language: str | None
    reachable: bool
    created_at: datetime
    version: int = 1  # bumped by every write: the newest copy wins in a cache


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


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """A user's payment password, security questions and lockout state (hashes only)."""

    user_id: int
    password_hash: str | None
    questions: tuple[str, ...]
    answer_hashes: tuple[str, ...]
    failures: int
    window_started: datetime | None
    locked_until: datetime | None
    locks: int


@dataclass(frozen=True, slots=True)
class PendingOperation:
    """Something a user asked for that runs once their payment password confirms it."""

    id: str
    user_id: int
    kind: str
    amount: Money | None
    payload: dict[str, object]
    created_at: datetime
    expires_at: datetime
    executed_at: datetime | None = None
    cancelled_at: datetime | None = None
    key: str | None = None  # the idempotency key it was created with
    result_id: int | None = None  # what its executor made: an order, a gift, a withdrawal

    def live(self, now: datetime) -> bool:
        """Still waiting for its password: not run, cancelled or expired."""
        return self.executed_at is None and self.cancelled_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class SavedCard:
    """A bank card as the bot keeps it: brand, first 6 and last 4 digits, expiry."""

    id: int
    user_id: int
    brand: str
    first6: str
    last4: str
    exp_month: int
    exp_year: int  # four digits

    @property
    def masked(self) -> str:
        return f"{self.brand} •••• {self.last4}  {self.exp_month:02d}/{self.exp_year % 100:02d}"


@dataclass(frozen=True, slots=True)
class Purchase:
    """One certificate invoice: ``amount`` in the ledger currency, ``invoice_amount`` in minor
    units of ``invoice_currency`` (Stars for XTR), as Telegram sends it."""

    id: int
    public_id: str  # the invoice payload
    user_id: int
    purpose: PurchasePurpose
    amount: Money
    invoice_currency: str
    invoice_amount: int
    note: str | None
    status: PurchaseStatus
    telegram_charge_id: str | None
    provider_charge_id: str | None
    created_at: datetime
    paid_at: datetime | None
    refunded_at: datetime | None


class ReturnStatus(StrEnum):
    RETURNING = "returning"
    RETURNED = "returned"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ReturnedCharge:
    """A second payment of one purchase, credited to nobody: its Stars go back to the payer.
    ``amount`` is in minor units of ``currency`` (Stars for XTR), as Telegram charged it."""

    charge_id: str
    user_id: int
    purchase_id: int
    currency: str
    amount: int
    status: ReturnStatus
    error: str | None
    created_at: datetime
    returned_at: datetime | None


@dataclass(frozen=True, slots=True)
class Certificate:
    """A part of a user's balance: what it was worth, what is left, where it came from."""

    id: int
    user_id: int
    nominal: Money
    remaining: Money
    source: CertificateSource
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Gift:
    id: int
    code: str
    giver_id: int
    amount: Money
    note: str | None
    purchase_id: int | None
    status: GiftStatus
    claimer_id: int | None
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items, its number (from 0), and how many there are in all."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def more(self) -> bool:
        return (self.number + 1) * self.size < self.total


class PurchasePurpose(StrEnum):
    SELF = "self"
    GIFT = "gift"


class PurchaseStatus(StrEnum):
    CREATED = "created"
    PAID = "paid"
    REFUNDED = "refunded"


class CertificateSource(StrEnum):
    BOUGHT = "bought"
    GIFT = "gift"
    REFUND = "refund"
    CASHBACK = "cashback"


class GiftStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    EXPIRED = "expired"
    REFUNDED = "refunded"


class AccrualSource(StrEnum):
    CERTIFICATE = "certificate"
    ORDER = "order"


class AccrualStatus(StrEnum):
    PENDING = "pending"
    ON_HOLD = "on_hold"
    AVAILABLE = "available"
    VOIDED = "voided"


class WithdrawalStatus(StrEnum):
    REQUESTED = "requested"
    PAID = "paid"
    REJECTED = "rejected"


class OperationKind(StrEnum):
    """What a pending operation does once the payment password confirms it."""

    ORDER_PAY = "order_pay"
    GIFT_FROM_BALANCE = "gift_from_balance"
    CASHBACK_WITHDRAW = "cashback_withdraw"
    CASHBACK_MOVE = "cashback_move"


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    DISPUTED = "disputed"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"


@dataclass(frozen=True, slots=True)
class Order:
    """An order paid from the certificate balance; ``cashback`` is what the goods earn
    (pending until the order completes)."""

    id: int
    user_id: int
    title: str
    product_id: str | None
    quantity: int
    amount: Money
    cashback: Money
    refunded: Money
    status: OrderStatus
    tracking: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    status: str
    actor: str  # "buyer", "operator:<id>" or "system"
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Accrual:
    """Cashback earned by a certificate or an order. ``amount`` is what the user gets (after
    any voided share); ``reason`` says why a voided one was voided."""

    id: int
    user_id: int
    source: AccrualSource
    order_id: int | None
    amount: Money
    voided: Money
    status: AccrualStatus
    reason: str | None  # "order_cancelled", "dispute_won", "refunded"
    created_at: datetime
    hold_until: datetime | None
    available_at: datetime | None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    id: int
    user_id: int
    operation_id: str
    amount: Money
    card_id: int
    card_last4: str
    status: WithdrawalStatus
    reason: str | None
    decided_by: int | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class Notice:
    """One outbox row: a message key and its parameters, rendered at send time."""

    id: int
    chat_id: int
    kind: str
    template: str
    params: dict[str, object]
    created_at: datetime
    attempts: int
    card: str | None = None  # the record it shows: "order:12", "ticket:4"
    follows_card: bool = False  # edits the card's last message in the chat instead
