"""The cashback programme: accruals by status, the hold, withdrawals and moves to the balance.

An accrual's life::

    order paid → pending → (order completed) on_hold until CASHBACK_HOLD → available
    certificate bought → available at once
    pending → voided (order cancelled, dispute won) · available → voided (certificate refunded)

Pending and held money sits in ``cashback_pending``; the release moves it to
``cashback_available`` keyed ``cashback-release:<accrual>``, so a second run moves nothing.
Withdrawing and moving to the balance are pending operations confirmed by the payment password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.errors import CashbackRefused, StaleButton
from bot.domain.models import Accrual, OperationKind, Order, Page, PendingOperation, Withdrawal
from bot.domain.money import Money
from bot.services.certificates import CertificateService
from bot.services.ledger import CASHBACK_EXPENSE, WITHDRAWALS, Account
from bot.services.notices import (
    CASHBACK_AVAILABLE,
    WITHDRAWAL,
    write_notice,
    write_to_operators,
)
from bot.services.security import SecurityService
from bot.storage.database import Database, retry_on_conflict
from bot.storage.repositories.cashback import WalletFigures
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

WITHDRAW = OperationKind.CASHBACK_WITHDRAW
MOVE = OperationKind.CASHBACK_MOVE
PAGE_SIZE = 6
_RELEASE_BATCH = 500
REJECT_REASONS = ("card_declined", "details_mismatch", "policy")
# What the user reads beside a voided accrual, by the order status that voided it.
VOID_REASONS = {"cancelled": "order_cancelled", "dispute_won": "dispute_won"}


@dataclass(frozen=True, slots=True)
class CashbackPolicy:
    hold: timedelta
    withdraw_min: Money
    support_chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class CashbackSummary:
    pending: Money
    on_hold: Money
    available: Money
    next_release: Accrual | None


@dataclass(frozen=True, slots=True)
class Wallet:
    """Everything a balance check shows: the certificate balance and how many certificates
    make it, and cashback split as /cashback splits it (pending and on hold share one ledger
    account, so held money is never called pending)."""

    balance: Money
    certificates: int
    available: Money
    on_hold: Money
    pending: Money
    next_release: Accrual | None  # the first held accrual to become available


# The operators' card of a withdrawal request, drawn from the request when it goes out.
OPERATORS_CARD = "ops-withdrawal-card"


@dataclass(frozen=True, slots=True)
class WithdrawalView:
    request: Withdrawal
    user: str  # the first name of who asked
    actor: str | None  # the first name of the operator who decided


class CashbackService:
    def __init__(
        self,
        db: Database,
        certificates: CertificateService,
        security: SecurityService,
        clock: Clock,
        policy: CashbackPolicy,
    ) -> None:
        self.db = db
        self.certificates = certificates
        self.ledger = certificates.ledger
        self.security = security
        self.clock = clock
        self.policy = policy
        security.register(WITHDRAW, self._withdraw)
        security.register(MOVE, self._move)

    # --- accruals of orders, in the order's unit of work --------------------------------------

    async def accrue_order(self, uow: UnitOfWork, order: Order) -> None:
        """A paid order's cashback: pending until the order completes."""
        if order.cashback.minor <= 0:
            return
        await self.ledger.transfer(
            uow,
            f"order-cashback:{order.id}",
            "order_cashback_pending",
            CASHBACK_EXPENSE,
            Account.cashback_pending(order.user_id),
            order.cashback,
            user_id=order.user_id,
        )
        await uow.cashback.add(
            user_id=order.user_id,
            source="order",
            order_id=order.id,
            amount=order.cashback,
            status="pending",
            now=self.clock.now(),
        )

    async def void_order_share(
        self, uow: UnitOfWork, order: Order, refunded: Money, status: str
    ) -> None:
        """The share of a pending accrual that a refund of ``refunded`` takes away; ``status``
        is the order's new one, which names the reason."""
        reason = VOID_REASONS[status]
        void = order.cashback.share(refunded, order.amount)
        accrual = await uow.cashback.of_order(order.id)
        if void.minor <= 0 or accrual is None:
            return
        if await uow.cashback.void_part(accrual.id, void, reason, self.clock.now()) is None:
            raise RuntimeError(f"accrual {accrual.id} cannot lose {void}: {accrual.status}")
        await self.ledger.transfer(
            uow,
            f"order-cashback-void:{order.id}:{status}",
            "order_cashback_voided",
            Account.cashback_pending(order.user_id),
            CASHBACK_EXPENSE,
            void,
            user_id=order.user_id,
        )

    async def hold_order(self, uow: UnitOfWork, order: Order) -> None:
        """The order is done: what is left of its cashback is held for CASHBACK_HOLD."""
        accrual = await uow.cashback.of_order(order.id)
        if accrual is None or accrual.status != "pending":
            return
        now = self.clock.now()
        held = await uow.cashback.hold(accrual.id, now + self.policy.hold, now)
        if held is not None and self.policy.hold <= timedelta(0):
            await self._release(uow, held, now)

    # --- the hold -------------------------------------------------------------------------

    async def release_due(self) -> Money:
        """Held accruals past their date become available, with one notice per user.
        Catches up on everything that fell due while the bot was down; safe to run twice."""
        now = self.clock.now()
        async with self.db.read() as uow:
            due = await uow.cashback.due(now, _RELEASE_BATCH)
        users: dict[int, None] = dict.fromkeys(accrual.user_id for accrual in due)
        released = self.ledger.zero()
        for user_id in users:
            released += await self._release_user(user_id, now)
        return released

    @retry_on_conflict()
    async def _release_user(self, user_id: int, now: datetime) -> Money:
        async with self.db.unit_of_work() as uow:
            total = self.ledger.zero()
            for accrual in await uow.cashback.due_of_user(user_id, now):
                released = await uow.cashback.release(accrual.id, now)
                if released is not None:
                    await self._release(uow, released, now)
                    total += released.amount
            if not total:
                return total
            held = await self.ledger.held(uow, user_id)
            await write_notice(
                uow,
                user_id,
                CASHBACK_AVAILABLE,
                "notice-cashback-available",
                now,
                amount=total,
                available=held.cashback_available,
            )
        log.info("event=cashback_released user_id=%s amount=%s", user_id, total)
        return total

    async def _release(self, uow: UnitOfWork, accrual: Accrual, now: datetime) -> None:
        if accrual.status == "on_hold" and await uow.cashback.release(accrual.id, now) is None:
            return
        if accrual.amount.minor > 0:
            await self.ledger.transfer(
                uow,
                f"cashback-release:{accrual.id}",
                "cashback_released",
                Account.cashback_pending(accrual.user_id),
                Account.cashback_available(accrual.user_id),
                accrual.amount,
                user_id=accrual.user_id,
            )

    # --- reading --------------------------------------------------------------------------

    async def summary(self, user_id: int) -> CashbackSummary:
        return _summary(await self.wallet(user_id))

    async def screen(self, user_id: int, page: int) -> tuple[CashbackSummary, Page[Accrual]]:
        """/cashback's totals and a page of its accruals, in one read."""
        async with self.db.read() as uow:
            figures = await uow.cashback.wallet(user_id)
            accruals = await self._page(uow, user_id, page)
        return _summary(self._wallet(figures)), accruals

    async def wallet(self, user_id: int) -> Wallet:
        async with self.db.read() as uow:
            return self._wallet(await uow.cashback.wallet(user_id))

    @staticmethod
    def _wallet(figures: WalletFigures) -> Wallet:
        return Wallet(
            balance=figures.balance,
            certificates=figures.certificates,
            available=figures.cashback_available,
            on_hold=figures.on_hold,
            # The ledger account holds both; what is not held yet waits for receipt.
            pending=figures.cashback_pending - figures.on_hold,
            next_release=figures.next_release,
        )

    async def page(self, user_id: int, page: int) -> Page[Accrual]:
        async with self.db.read() as uow:
            return await self._page(uow, user_id, page)

    @staticmethod
    async def _page(uow: UnitOfWork, user_id: int, page: int) -> Page[Accrual]:
        page = max(page, 0)
        accruals, total = await uow.cashback.page(user_id, PAGE_SIZE, page * PAGE_SIZE)
        return Page(accruals, page, PAGE_SIZE, total)

    async def drift(self) -> list[str]:
        """Pending and held accruals must add up to each user's cashback_pending account."""
        async with self.db.read() as uow:
            expected = await uow.cashback.unreleased_by_user()
            held = await uow.ledger.nonzero_balances("cashback_pending")
        return [
            f"user {user_id}: cashback_pending {held.get(user_id, 0)},"
            f" accruals {expected.get(user_id, 0)}"
            for user_id in sorted(set(expected) | set(held))
            if held.get(user_id, 0) != expected.get(user_id, 0)
        ]

    async def recent(self, limit: int = 30) -> list[Accrual]:
        async with self.db.read() as uow:
            return await uow.cashback.everything(limit)

    async def withdrawals(self, limit: int = 20) -> list[Withdrawal]:
        async with self.db.read() as uow:
            return await uow.cashback.withdrawals(limit)

    # --- withdrawing ------------------------------------------------------------------------

    async def withdrawable(self, user_id: int) -> Money:
        """All the available cashback, if it reaches WITHDRAW_MIN; refused with the minimum."""
        available = (await self.ledger.balances(user_id)).cashback_available
        if available < self.policy.withdraw_min:
            raise CashbackRefused(
                "below_minimum", minimum=self.policy.withdraw_min, available=available
            )
        return available

    async def prepare_withdrawal(self, user_id: int, card_id: int) -> PendingOperation:
        """All available cashback to a saved card, once the password confirms it."""
        available = await self.withdrawable(user_id)
        async with self.db.read() as uow:
            card = await uow.cards.get(user_id, card_id)
        if card is None:
            raise CashbackRefused("no_card")
        return await self.security.create_operation(
            user_id,
            WITHDRAW,
            key=f"withdraw:{user_id}:{card.id}:{available.minor}",
            amount=available,
            payload={"card": card.id, "last4": card.last4},
        )

    async def _withdraw(self, uow: UnitOfWork, operation: PendingOperation) -> int:
        assert operation.amount is not None
        card = await uow.cards.get(operation.user_id, int(str(operation.payload["card"])))
        if card is None:
            raise CashbackRefused("no_card")
        now = self.clock.now()
        request = await uow.cashback.add_withdrawal(
            user_id=operation.user_id,
            operation_id=operation.id,
            amount=operation.amount,
            card_id=card.id,
            card_last4=card.last4,
            now=now,
        )
        await self.ledger.transfer(
            uow,
            f"withdraw:{request.id}",
            "cashback_withdrawal",
            Account.cashback_available(operation.user_id),
            WITHDRAWALS,
            operation.amount,
            user_id=operation.user_id,
        )
        await self._tell_operators(uow, request.id, now)
        log.info(
            "event=withdrawal_requested user_id=%s request=%s amount=%s",
            operation.user_id,
            request.id,
            request.amount,
        )
        return request.id

    async def _tell_operators(self, uow: UnitOfWork, request_id: int, now: datetime) -> None:
        """The request's card in the operators' chat, drawn as the request is when it goes out:
        posted once, then edited when it is decided."""
        await write_to_operators(
            uow,
            self.policy.support_chat_id,
            OPERATORS_CARD,
            now,
            card=f"withdrawal:{request_id}",
            follows_card=True,
            request=request_id,
        )

    async def view(self, request_id: int) -> WithdrawalView:
        """A request as the operators see it: with the names of who asked and who decided."""
        async with self.db.read() as uow:
            request = await uow.cashback.withdrawal(request_id)
            if request is None:
                raise StaleButton()
            people = await uow.users.get_many(
                [request.user_id] + ([request.decided_by] if request.decided_by else [])
            )
        user = people.get(request.user_id)
        actor = people.get(request.decided_by) if request.decided_by else None
        return WithdrawalView(
            request,
            user.first_name if user else str(request.user_id),
            actor.first_name
            if actor
            else (str(request.decided_by) if request.decided_by else None),
        )

    async def withdrawal_of(self, operation: PendingOperation) -> Withdrawal:
        async with self.db.read() as uow:
            request = await uow.cashback.withdrawal_of_operation(operation.id)
        assert request is not None, "the executor wrote it"
        return request

    @retry_on_conflict()
    async def decide_withdrawal(
        self, actor_id: int, request_id: int, *, approve: bool, reason: str | None = None
    ) -> Withdrawal:
        """Approve (paid) or reject (the money back to available, with the reason), once; the
        user hears either way. A second decision is refused with what the first one was."""
        if not approve and reason not in REJECT_REASONS:
            raise CashbackRefused("reason")
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            status = "paid" if approve else "rejected"
            request = await uow.cashback.decide(request_id, status, reason, actor_id, now)
            if request is None:
                known = await uow.cashback.withdrawal(request_id)
                raise CashbackRefused(
                    "decided", request=request_id, status=known.status if known else "unknown"
                )
            if not approve:
                await self.ledger.transfer(
                    uow,
                    f"withdraw-reject:{request.id}",
                    "cashback_withdrawal_rejected",
                    WITHDRAWALS,
                    Account.cashback_available(request.user_id),
                    request.amount,
                    user_id=request.user_id,
                )
            await self._tell_operators(uow, request.id, now)
            await write_notice(
                uow,
                request.user_id,
                WITHDRAWAL,
                f"notice-withdrawal-{status}",
                now,
                amount=request.amount,
                last4=request.card_last4,
                reason=reason or "",
            )
        log.info(
            "event=withdrawal_%s request=%s actor=%s reason=%s",
            status,
            request_id,
            actor_id,
            reason,
        )
        return request

    # --- moving to the balance --------------------------------------------------------------

    async def prepare_move(self, user_id: int) -> PendingOperation:
        """Available cashback onto the certificate balance, as much as BALANCE_MAX leaves room
        for; the password confirms it."""
        balances = await self.ledger.balances(user_id)
        if balances.cashback_available.minor <= 0:
            raise CashbackRefused("nothing")
        room = self.certificates.policy.balance_max - balances.balance
        amount = min(balances.cashback_available, room)
        if amount.minor <= 0:
            raise CashbackRefused("cap", cap=self.certificates.policy.balance_max)
        return await self.security.create_operation(
            user_id, MOVE, key=f"cashback-move:{user_id}:{amount.minor}", amount=amount
        )

    async def _move(self, uow: UnitOfWork, operation: PendingOperation) -> None:
        assert operation.amount is not None
        amount = operation.amount
        await self.certificates.check_cap(uow, operation.user_id, amount)
        await self.ledger.transfer(
            uow,
            f"cashback-move:{operation.id}",
            "cashback_to_balance",
            Account.cashback_available(operation.user_id),
            Account.balance(operation.user_id),
            amount,
            user_id=operation.user_id,
        )
        await uow.certificates.add_certificate(
            operation.user_id, amount, "cashback", self.clock.now()
        )
        log.info("event=cashback_moved user_id=%s amount=%s", operation.user_id, operation.amount)


def _summary(wallet: Wallet) -> CashbackSummary:
    return CashbackSummary(
        pending=wallet.pending,
        on_hold=wallet.on_hold,
        available=wallet.available,
        next_release=wallet.next_release,
    )
