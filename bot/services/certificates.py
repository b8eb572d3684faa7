"""Gift certificates: purchases through Telegram Payments, the summed balance, refunds.

A user's balance is the sum of their certificates. Every credit creates a certificate and every
spend deducts from them oldest first, in the same unit of work as the ledger entry, so
``SUM(certificates.remaining)`` of a user always equals their ``balance`` account.

Buying a certificate earns ``cashback_percent`` of its amount as cashback that is available at
once. The share is rounded half-up to the minor unit ($10.05 at 1% gives $0.10; $0.50 gives
$0.01), and it is posted in the purchase's own ledger entry.
"""

from __future__ import annotations

import base64
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.domain.clock import Clock
from bot.domain.errors import (
    BalanceCapExceeded,
    CheckoutRefused,
    InsufficientFunds,
    InvalidAmount,
    PaymentUnmatched,
    RefundRefused,
)
from bot.domain.models import (
    Certificate,
    Gift,
    Page,
    Purchase,
    PurchaseStatus,
    ReturnedCharge,
    ReturnStatus,
)
from bot.domain.money import Money, currency_exponent
from bot.services.ledger import (
    CASHBACK_EXPENSE,
    GIFT_ESCROW,
    TELEGRAM_PAYMENTS,
    Account,
    EntryResult,
    LedgerService,
    Leg,
)
from bot.services.notices import ACCOUNT, write_notice, write_to_operators
from bot.storage.database import Database, retry_on_conflict
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

STARS = "XTR"
PAGE_SIZE = 5


@dataclass(frozen=True, slots=True)
class CertificatePolicy:
    """What the operator configured: nominals, limits, prices and the certificate cashback."""

    nominals: tuple[Money, ...]
    minimum: Money
    maximum: Money
    balance_max: Money
    stars_per_unit: Decimal
    cashback_percent: Decimal
    fiat: bool  # a provider token is set: invoices in the ledger currency, not Stars
    gift_ttl: timedelta
    operators_chat: int | None = None  # where money that matches nothing is reported


@dataclass(frozen=True, slots=True)
class Invoice:
    currency: str
    amount: int  # minor units of ``currency``; Stars for XTR


@dataclass(frozen=True, slots=True)
class PaymentResult:
    purchase: Purchase
    created: bool  # False for a re-delivered successful_payment
    certificate: Certificate | None
    gift: Gift | None
    cashback: Money
    balance: Money


@dataclass(frozen=True, slots=True)
class RefundResult:
    purchase: Purchase
    reversed: bool  # False: it had been reversed before
    amount: Money


@dataclass(frozen=True, slots=True)
class CertificatePage:
    page: Page[Certificate]
    live: int  # certificates with money left
    balance: Money


def allocate(certificates: Sequence[Certificate], amount: Money) -> list[tuple[int, Money]]:
    """(certificate id, amount to take) for spending ``amount``, oldest certificate first.

    Raises ShortOfCertificates, with what they do cover, when they do not cover it all.
    """
    plan: list[tuple[int, Money]] = []
    left = amount
    for certificate in sorted(certificates, key=lambda c: c.id):
        if not left:
            break
        take = min(certificate.remaining, left)
        if take.minor > 0:
            plan.append((certificate.id, take))
            left -= take
    if left.minor > 0:
        raise ShortOfCertificates(amount - left)
    return plan


class ShortOfCertificates(Exception):
    def __init__(self, covered: Money) -> None:
        super().__init__(covered)
        self.covered = covered


class CertificateService:
    def __init__(
        self, db: Database, ledger: LedgerService, clock: Clock, policy: CertificatePolicy
    ) -> None:
        self.db = db
        self.ledger = ledger
        self.clock = clock
        self.policy = policy
        self.currency = ledger.currency

    # --- amounts and prices -------------------------------------------------------------------

    def parse_amount(self, text: str) -> Money:
        """A custom certificate amount: strict digits, within CERTIFICATE_MIN..MAX."""
        amount = Money.parse(text, self.currency)
        self.check_amount(amount)
        return amount

    def check_amount(self, amount: Money) -> None:
        if amount < self.policy.minimum:
            raise InvalidAmount("below_min", min=self.policy.minimum, max=self.policy.maximum)
        if amount > self.policy.maximum:
            raise InvalidAmount("above_max", min=self.policy.minimum, max=self.policy.maximum)

    def invoice_for(self, amount: Money) -> Invoice:
        """Stars: amount × STARS_PER_UNIT, rounded up; fiat: the amount in minor units."""
        if self.policy.fiat:
            return Invoice(self.currency, amount.minor)
        units = Decimal(amount.minor).scaleb(-currency_exponent(self.currency))
        return Invoice(STARS, math.ceil(units * self.policy.stars_per_unit))

    def cashback_for(self, amount: Money) -> Money:
        return amount.percent(self.policy.cashback_percent)

    async def check_cap(self, uow: UnitOfWork, user_id: int, amount: Money) -> Money:
        """BALANCE_MAX: refuse ``amount`` more if the certificate balance would pass it;
        else the balance now."""
        balance = (await self.ledger.held(uow, user_id)).balance
        if balance + amount > self.policy.balance_max:
            room = max(self.policy.balance_max - balance, self.ledger.zero())
            raise BalanceCapExceeded(cap=self.policy.balance_max, room=room)
        return balance

    # --- purchases ------------------------------------------------------------------------------

    @retry_on_conflict()
    async def create_purchase(
        self, user_id: int, amount: Money, purpose: str, note: str | None = None
    ) -> Purchase:
        """The row an invoice points at; its public id is the invoice payload."""
        self.check_amount(amount)
        invoice = self.invoice_for(amount)
        async with self.db.unit_of_work() as uow:
            if purpose == "self":
                await self.check_cap(uow, user_id, amount)
            return await uow.certificates.add_purchase(
                public_id=secrets.token_urlsafe(16),
                user_id=user_id,
                purpose=purpose,
                amount=amount,
                invoice_currency=invoice.currency,
                invoice_amount=invoice.amount,
                note=note,
                now=self.clock.now(),
            )

    async def check_checkout(
        self, user_id: int, payload: str, currency: str, total_amount: int
    ) -> Purchase:
        """Pre-checkout: refuse unless the purchase is this user's, unpaid, and unchanged."""
        async with self.db.read() as uow:
            purchase = await uow.certificates.purchase(payload)
            if purchase is None or purchase.user_id != user_id:
                raise CheckoutRefused("unknown")
            if purchase.status != "created":
                raise CheckoutRefused("paid")
            if purchase.invoice_currency != currency or purchase.invoice_amount != total_amount:
                raise CheckoutRefused("changed")
            if purchase.purpose == "self":
                await self.check_cap(uow, user_id, purchase.amount)
        return purchase

    @retry_on_conflict()
    async def complete_payment(
        self,
        user_id: int,
        payload: str,
        currency: str,
        total_amount: int,
        charge_id: str,
        provider_charge_id: str,
    ) -> PaymentResult | ReturnedCharge:
        """Credit a successful payment once, keyed by its Telegram charge id.

        The purchase row, the ledger entry (the certificate money and its cashback) and the
        certificate or gift code commit together. A second delivery finds the charge recorded
        and changes nothing. A second charge for a purchase paid already credits nothing and
        comes back as a ReturnedCharge, recorded once, for the runtime to give back. Money that
        matches no purchase is never credited blindly: PaymentUnmatched tells the operators.
        """
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            repo = uow.certificates
            known = await repo.purchase_by_charge(charge_id)
            if known is not None:
                return await self._result(uow, known, created=False)
            returned = await repo.returned_charge(charge_id)
            if returned is not None:
                return returned  # a second payment delivered again: its return goes on
            purchase = await repo.purchase(payload)
            if (
                purchase is not None
                and purchase.user_id == user_id
                and purchase.invoice_currency == currency
                and purchase.invoice_amount == total_amount
                and purchase.status != PurchaseStatus.CREATED
            ):
                # The same invoice paid twice (two devices, both pre-checkouts answered): the
                # first charge bought it; this one credits nothing and its money goes back.
                log.warning(
                    "event=payment_duplicate user_id=%s purchase=%s charge_id=%s",
                    user_id,
                    purchase.id,
                    charge_id,
                )
                return await repo.add_returned_charge(
                    charge_id=charge_id,
                    user_id=user_id,
                    purchase_id=purchase.id,
                    currency=currency,
                    amount=total_amount,
                    now=now,
                )
            if (
                purchase is None
                or purchase.user_id != user_id
                or purchase.invoice_currency != currency
                or purchase.invoice_amount != total_amount
                or not await repo.mark_paid(purchase.id, charge_id, provider_charge_id, now)
            ):
                # Nothing is credited. The operators hear of it once (keyed by the charge),
                # however often Telegram delivers it; the payer hears from the errors router.
                await self._tell_operators(
                    uow,
                    "ops-payment-unmatched",
                    f"unmatched:{charge_id}",
                    user_id=str(user_id),
                    charge_id=charge_id,
                )
                purchase = None
            else:
                result = await self._credit(uow, purchase, user_id, charge_id, now)
        if purchase is not None:
            log.info(
                "event=certificate_paid user_id=%s purchase=%s purpose=%s amount=%s charge_id=%s",
                user_id,
                purchase.id,
                purchase.purpose,
                purchase.amount,
                charge_id,
            )
            return result
        log.error("event=payment_unmatched user_id=%s charge_id=%s", user_id, charge_id)
        raise PaymentUnmatched(charge_id=charge_id)

    @retry_on_conflict()
    async def settle_return(self, charge_id: str, *, error: str | None) -> ReturnedCharge:
        """Telegram gave a second payment's money back (``error`` None) or refused to: the
        payer hears which, once, through the outbox; a refusal also goes to the operators."""
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            repo = uow.certificates
            status = ReturnStatus.FAILED if error else ReturnStatus.RETURNED
            settled = await repo.mark_returned(charge_id, status, error, now)
            current = settled or await repo.returned_charge(charge_id)
            assert current is not None, "made by complete_payment"
            if settled is None:
                return current  # returned before: told then
            params: dict[str, Any] = {"stars": current.amount, "currency": current.currency}
            if error is None:
                await write_notice(
                    uow,
                    current.user_id,
                    ACCOUNT,
                    "payment-returned",
                    now,
                    key=f"returned:{charge_id}",
                    **params,
                )
            else:
                await write_notice(
                    uow,
                    current.user_id,
                    ACCOUNT,
                    "payment-return-pending",
                    now,
                    key=f"return-pending:{charge_id}",
                    **params,
                )
                await self._tell_operators(
                    uow,
                    "ops-payment-return-failed",
                    f"return-failed:{charge_id}",
                    user_id=str(current.user_id),
                    charge_id=charge_id,
                    error=error,
                    **params,
                )
        log.info("event=payment_returned charge_id=%s status=%s", charge_id, current.status)
        return current

    async def _credit(
        self, uow: UnitOfWork, purchase: Purchase, user_id: int, charge_id: str, now: datetime
    ) -> PaymentResult:
        """The paid purchase's money, cashback and certificate or gift, in the caller's unit."""
        repo = uow.certificates
        amount = purchase.amount
        cashback = self.cashback_for(amount)
        target = Account.balance(user_id) if purchase.purpose == "self" else GIFT_ESCROW
        legs = [Leg(TELEGRAM_PAYMENTS, -amount), Leg(target, amount)]
        if cashback.minor > 0:
            legs += [
                Leg(CASHBACK_EXPENSE, -cashback),
                Leg(Account.cashback_available(user_id), cashback),
            ]
        kind = "certificate_purchase" if purchase.purpose == "self" else "gift_purchase"
        await self.ledger.post_entry(uow, f"tg-charge:{charge_id}", kind, legs, user_id=user_id)
        if cashback.minor > 0:
            await uow.cashback.add(
                user_id=user_id,
                source="certificate",
                purchase_id=purchase.id,
                amount=cashback,
                status="available",
                now=now,
            )
        if purchase.purpose == "self":
            await repo.add_certificate(
                user_id, purchase.amount, "bought", now, purchase_id=purchase.id
            )
        else:
            await repo.add_gift(
                code=new_gift_code(),
                giver_id=user_id,
                amount=purchase.amount,
                note=purchase.note,
                purchase_id=purchase.id,
                now=now,
                expires_at=now + self.policy.gift_ttl,
            )
        paid = await repo.purchase(purchase.public_id)
        assert paid is not None
        return await self._result(uow, paid, created=True)

    async def _result(self, uow: UnitOfWork, purchase: Purchase, *, created: bool) -> PaymentResult:
        repo = uow.certificates
        held = await self.ledger.held(uow, purchase.user_id)
        return PaymentResult(
            purchase=purchase,
            created=created,
            certificate=await repo.of_purchase(purchase.id),
            gift=await repo.gift_of_purchase(purchase.id) if purchase.purpose == "gift" else None,
            cashback=self.cashback_for(purchase.amount),
            balance=held.balance,
        )

    # --- refunds --------------------------------------------------------------------------------

    async def refundable(self, charge_id: str) -> Purchase:
        """The purchase behind a charge, if its money can still be taken back; else why not."""
        async with self.db.read() as uow:
            purchase = await uow.certificates.purchase_by_charge(charge_id)
            if purchase is None:
                raise RefundRefused("unknown")
            if purchase.status == "refunded":
                return purchase
            await self._check_reversible(uow, purchase)
        return purchase

    async def _check_reversible(self, uow: UnitOfWork, purchase: Purchase) -> None:
        repo = uow.certificates
        if purchase.purpose == "self":
            certificate = await repo.of_purchase(purchase.id)
            if certificate is None or certificate.remaining != certificate.nominal:
                left = certificate.remaining if certificate else self.ledger.zero()
                raise RefundRefused("spent", spent=purchase.amount - left)
        else:
            gift = await repo.gift_of_purchase(purchase.id)
            if gift is None or gift.status != "open":
                raise RefundRefused("gift_closed")
        cashback = self.cashback_for(purchase.amount)
        if (await self.ledger.held(uow, purchase.user_id)).cashback_available < cashback:
            raise RefundRefused("cashback_spent", cashback=cashback)

    @retry_on_conflict()
    async def reverse(self, charge_id: str, *, by_operator: bool = False) -> RefundResult:
        """Take a refunded charge's money back out of the balance (or the unclaimed gift),
        with its cashback, once. Raises RefundRefused when that money is no longer there.

        Refunded ``by_operator``, the payer hears of it through the outbox; otherwise it is
        the payer's own update (Telegram's refunded_payment) and its handler answers."""
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            repo = uow.certificates
            purchase = await repo.purchase_by_charge(charge_id)
            if purchase is None:
                raise RefundRefused("unknown")
            amount = purchase.amount
            if purchase.status == "refunded":
                return RefundResult(purchase, reversed=False, amount=amount)
            await self._check_reversible(uow, purchase)
            cashback = self.cashback_for(amount)
            if purchase.purpose == "self":
                certificate = await repo.of_purchase(purchase.id)
                assert certificate is not None
                source = Account.balance(purchase.user_id)
                await repo.take(certificate.id, certificate.nominal)
            else:
                gift = await repo.gift_of_purchase(purchase.id)
                assert gift is not None
                if not await repo.close_gift(gift.id, "refunded", now):
                    raise RefundRefused("gift_closed")
                source = GIFT_ESCROW
            legs = [Leg(source, -amount), Leg(TELEGRAM_PAYMENTS, amount)]
            if cashback.minor > 0:
                legs += [
                    Leg(Account.cashback_available(purchase.user_id), -cashback),
                    Leg(CASHBACK_EXPENSE, cashback),
                ]
            await self.ledger.post_entry(
                uow, f"tg-refund:{charge_id}", "certificate_refund", legs, user_id=purchase.user_id
            )
            await repo.mark_refunded(purchase.id, now)
            await uow.cashback.void_purchase(purchase.id, "refunded", now)
            if by_operator:
                await write_notice(
                    uow, purchase.user_id, ACCOUNT, "refund-done", now, amount=amount
                )
            refunded = await repo.purchase_by_charge(charge_id)
            assert refunded is not None
        log.info(
            "event=certificate_refunded user_id=%s purchase=%s charge_id=%s",
            purchase.user_id,
            purchase.id,
            charge_id,
        )
        return RefundResult(refunded, reversed=True, amount=amount)

    async def take_back(self, charge_id: str) -> RefundResult | None:
        """Telegram refunded a charge (a dispute, say): its money out of the balance, once. When
        that money is no longer here to take back (spent, a gift claimed), people decide: the
        operators are told, once, and None comes back."""
        try:
            return await self.reverse(charge_id)
        except RefundRefused as refused:
            log.error("event=refund_unreversed charge_id=%s reason=%s", charge_id, refused.reason)
            async with self.db.unit_of_work() as uow:
                purchase = await uow.certificates.purchase_by_charge(charge_id)
                await self._tell_operators(
                    uow,
                    "ops-refund-unreversed",
                    f"unreversed:{charge_id}",
                    user_id=str(purchase.user_id if purchase else "?"),
                    charge_id=charge_id,
                    reason=refused,
                )
            return None

    async def _tell_operators(
        self, uow: UnitOfWork, template: str, key: str, **params: Any
    ) -> None:
        await write_to_operators(
            uow, self.policy.operators_chat, template, self.clock.now(), key=key, **params
        )

    async def recent_charges(self, user_id: int, limit: int = 5) -> list[Purchase]:
        async with self.db.read() as uow:
            return await uow.certificates.paid_purchases(user_id, limit)

    async def charges_by_id(self, charge_ids: list[str]) -> dict[str, Purchase]:
        async with self.db.read() as uow:
            return await uow.certificates.purchases_by_charges(charge_ids)

    # --- the balance and its certificates -------------------------------------------------------

    async def page(self, user_id: int, page: int) -> CertificatePage:
        page = max(page, 0)
        async with self.db.read() as uow:
            items = await uow.certificates.page(user_id, PAGE_SIZE, page * PAGE_SIZE)
            live, total = await uow.certificates.summary(user_id)
            held = await self.ledger.held(uow, user_id)
        return CertificatePage(Page(items, page, PAGE_SIZE, total), live, held.balance)

    async def count(self, user_id: int) -> int:
        """Certificates with money left."""
        async with self.db.read() as uow:
            live, _ = await uow.certificates.summary(user_id)
        return live

    async def spend(
        self,
        uow: UnitOfWork,
        user_id: int,
        amount: Money,
        *,
        key: str,
        kind: str,
        to: Account,
    ) -> EntryResult:
        """Move ``amount`` out of the balance, deducting certificates oldest first.

        The ledger entry goes first: on PostgreSQL its update locks the user's balance row, so
        the certificates read next cannot change under this transaction.
        """
        result = await self.ledger.transfer(
            uow, key, kind, Account.balance(user_id), to, amount, user_id=user_id
        )
        if not result.created:
            return result
        certificates = await uow.certificates.spendable(user_id)
        try:
            plan = allocate(certificates, amount)
        except ShortOfCertificates as short:
            # The balance covered it, so the certificates must too: a broken invariant.
            raise InsufficientFunds(needed=amount, available=short.covered) from None
        for certificate_id, take in plan:
            if not await uow.certificates.take(certificate_id, take):
                raise InsufficientFunds(needed=amount, available=self.ledger.zero())
        return result

    async def drift(self) -> list[str]:
        async with self.db.read() as uow:
            rows = await uow.certificates.drift()
        return [
            f"user {user_id} has balance {balance} but certificates sum to {total}"
            for user_id, balance, total in rows
        ]


def new_gift_code() -> str:
    """80 bits from ``secrets`` as 16 lowercase base32 letters and digits (no padding)."""
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()
