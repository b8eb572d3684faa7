"""Orders: paid from the certificate balance, shipped, delivered, confirmed, or cancelled and
disputed, with the money back on the balance at once.

Lifecycle::

    awaiting_payment → paid → shipped → delivered → completed
    awaiting_payment | paid → cancelled
    shipped | delivered → disputed → dispute_won | dispute_lost

Paying is one ledger entry keyed ``order-pay:<id>`` that deducts certificates oldest first;
the goods' cashback goes to ``cashback_pending`` in the same unit of work and is held once the
order completes (the cashback programme releases it). A cancel or a won dispute refunds at once
and voids the matching share of that cashback. Every change is a row in the order's history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from bot.domain.clock import Clock
from bot.domain.errors import InsufficientFunds, OrderRefused
from bot.domain.models import (
    Accrual,
    OperationKind,
    Order,
    OrderEvent,
    OrderStatus,
    Page,
    PendingOperation,
)
from bot.domain.money import Money
from bot.services.cashback import CashbackService
from bot.services.certificates import CertificateService
from bot.services.ledger import ORDERS, Account
from bot.services.notices import ORDER, ORDER_REMINDER, write_notice, write_to_operators
from bot.services.security import SecurityService
from bot.storage.database import Database, retry_on_conflict
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

PAY = OperationKind.ORDER_PAY
# Notices about an order, drawn from the order as it is when they go out.
BILLED = "order-billed"
CHANGED = "order-changed"
OPERATORS_CARD = "ops-order-card"
PAGE_SIZE = 5
TITLE_MAX = 120
_AUTO_BATCH = 100

# Which statuses each status may follow.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "paid": ("awaiting_payment",),
    "cancelled": ("awaiting_payment", "paid"),
    "shipped": ("paid",),
    "delivered": ("shipped",),
    "completed": ("delivered",),
    "disputed": ("shipped", "delivered"),
    "dispute_won": ("disputed",),
    "dispute_lost": ("disputed",),
}
FINAL = ("completed", "cancelled", "dispute_won", "dispute_lost")


@dataclass(frozen=True, slots=True)
class OrderView:
    order: Order
    history: list[OrderEvent]
    cashback: Accrual | None = None
    buyer: str | None = None  # the buyer's first name, for the operators
    balance: Money | None = None  # the buyer's balance, for what paying it leaves
    top_up: TopUp | None = None  # unpaid and the balance is short: how to close the gap


@dataclass(frozen=True, slots=True)
class TopUp:
    """An order the balance cannot cover yet: the gap, and the smallest certificate nominal
    (by its index among the nominals) that closes it, if one does."""

    order: Order
    gap: Money
    balance: Money
    nominal_index: int | None
    nominal: Money | None


class OrderService:
    def __init__(
        self,
        db: Database,
        certificates: CertificateService,
        cashback: CashbackService,
        security: SecurityService,
        clock: Clock,
        protection: timedelta,
        reminder: timedelta = timedelta(days=3),
        operators_chat: int | None = None,
    ) -> None:
        self.db = db
        self.operators_chat = operators_chat
        self.certificates = certificates
        self.cashback = cashback
        self.ledger = certificates.ledger
        self.clock = clock
        self.protection = protection
        self.reminder = reminder
        security.register(PAY, self._pay)
        self.security = security

    # --- creating -----------------------------------------------------------------------------

    @retry_on_conflict()
    async def create(
        self,
        user_id: int,
        title: str,
        amount: Money,
        *,
        key: str | None = None,
        again_once_settled: bool = False,
        cashback_percent: Decimal = Decimal(0),
        quantity: int = 1,
        product_id: str | None = None,
        stock: int | None = None,
        actor: str = "buyer",
    ) -> Order:
        """A new order awaiting payment, its stock reserved in the same unit of work.

        ``key`` makes the creation happen once: a replayed update or a double tap that repeats
        it gets the order the first one made, and nothing is reserved twice. With
        ``again_once_settled`` (a shop card's Order button) the key's order is returned only
        while it awaits payment; once it is paid or cancelled the same card makes a new one.
        """
        title = " ".join(title.split())[:TITLE_MAX]
        if not title:
            raise OrderRefused("no_title")
        if amount.minor <= 0:
            raise OrderRefused("no_amount")
        if not 1 <= quantity <= 10:
            raise OrderRefused("quantity")
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            if await uow.users.get(user_id) is None:
                raise OrderRefused("unknown_user")
            while key is not None:
                made = await uow.orders.by_key(key)
                if made is None:
                    break
                if not again_once_settled or made.status == OrderStatus.AWAITING_PAYMENT:
                    return made
                key = f"{key}>{made.id}"  # the next order from the same card
            order = await uow.orders.add(
                user_id=user_id,
                title=title,
                product_id=product_id,
                quantity=quantity,
                amount=amount,
                cashback=amount.percent(cashback_percent),
                now=now,
                key=key,
            )
            if order is None:
                # A twin with the same key committed first (PostgreSQL waited for it): that
                # order is the one, and this unit of work has changed nothing.
                assert key is not None
                made = await uow.orders.by_key(key)
                assert made is not None
                return made
            if (
                product_id is not None
                and stock is not None
                and not await uow.orders.reserve(product_id, quantity, stock)
            ):
                raise OrderRefused("sold_out")
            await uow.orders.add_event(order.id, order.status, actor, None, now)
            if actor != "buyer":  # billed by an operator: the bill goes to the buyer
                await write_notice(
                    uow, user_id, ORDER, BILLED, now, card=f"order:{order.id}", order=order.id
                )
        return order

    # --- reading ------------------------------------------------------------------------------

    async def view(self, user_id: int | None, order_id: int) -> OrderView:
        """An order with its history; someone else's order is as good as none."""
        async with self.db.read() as uow:
            order = await uow.orders.get(order_id)
            if order is None or (user_id is not None and order.user_id != user_id):
                raise OrderRefused("not_found", order=order_id)
            history = await uow.orders.events(order_id)
            accrual = await uow.cashback.of_order(order_id)
            buyer = await uow.users.get(order.user_id) if user_id is None else None
        return OrderView(order, history, accrual, buyer.first_name if buyer else None)

    async def card(self, user_id: int | None, order_id: int) -> OrderView:
        """The buyer's view of their order, with their balance and, when it is unpaid and the
        balance is short, the top-up that closes the gap."""
        view = await self.view(user_id, order_id)
        order, balance = view.order, (await self.ledger.balances(view.order.user_id)).balance
        short = order.status == OrderStatus.AWAITING_PAYMENT and balance < order.amount
        return replace(
            view, balance=balance, top_up=self._top_up(order, balance) if short else None
        )

    def _top_up(self, order: Order, balance: Money) -> TopUp:
        gap = order.amount - balance
        nominals = self.certificates.policy.nominals
        index = next((i for i, nominal in enumerate(nominals) if nominal >= gap), None)
        return TopUp(order, gap, balance, index, None if index is None else nominals[index])

    async def page(self, user_id: int, page: int) -> Page[Order]:
        page = max(page, 0)
        async with self.db.read() as uow:
            orders, total = await uow.orders.page(user_id, PAGE_SIZE, page * PAGE_SIZE)
        return Page(orders, page, PAGE_SIZE, total)

    async def payable_now(self, user_id: int) -> Order | None:
        """The newest unpaid order that the balance covers now: after a top-up it comes back
        to the buyer with its Pay button."""
        async with self.db.read() as uow:
            order = await uow.orders.latest_awaiting(user_id)
            held = await self.ledger.held(uow, user_id)
        if order is None or held.balance < order.amount:
            return None
        return order

    # --- paying -------------------------------------------------------------------------------

    async def prepare_payment(self, user_id: int, order_id: int) -> PendingOperation:
        """The pending operation the payment password confirms; a short balance is refused
        with the gap, and nothing changes."""
        order = (await self.view(user_id, order_id)).order
        if order.status != "awaiting_payment":
            raise OrderRefused("not_payable", order=order.id)
        balances = await self.ledger.balances(user_id)
        amount = order.amount
        if balances.balance < amount:
            raise InsufficientFunds(needed=amount, available=balances.balance)
        return await self.security.create_operation(
            user_id,
            PAY,
            key=f"order-pay:{order.id}",
            amount=amount,
            payload={"order": order.id},
        )

    async def pay_or_top_up(self, user_id: int, order_id: int) -> PendingOperation | TopUp:
        """The payment to confirm, or, when the balance is short, how to top it up."""
        try:
            return await self.prepare_payment(user_id, order_id)
        except InsufficientFunds as short:
            return self._top_up((await self.view(user_id, order_id)).order, short.available)

    async def _pay(self, uow: UnitOfWork, operation: PendingOperation) -> int:
        order_id = int(str(operation.payload["order"]))
        now = self.clock.now()
        order = await uow.orders.move(order_id, ALLOWED_FROM["paid"], "paid", now)
        if order is None or order.user_id != operation.user_id:
            # Paid by a double tap a moment ago, cancelled, or not this user's.
            raise OrderRefused("not_payable", order=order_id)
        await self.certificates.spend(
            uow,
            order.user_id,
            order.amount,
            key=f"order-pay:{order.id}",
            kind="order_payment",
            to=ORDERS,
        )
        await self.cashback.accrue_order(uow, order)
        await uow.orders.add_event(order.id, "paid", "buyer", None, now)
        await self._tell_operators(uow, order, now)
        log.info(
            "event=order_paid user_id=%s order=%s amount=%s", order.user_id, order.id, order.amount
        )
        return order.id

    # --- the lifecycle ------------------------------------------------------------------------

    async def cancel(self, user_id: int, order_id: int) -> Order:
        """The buyer cancels before shipping; a paid order's money is back at once."""
        return await self._buyer_change(user_id, order_id, "cancelled")

    async def open_dispute(self, user_id: int, order_id: int) -> Order:
        return await self._buyer_change(user_id, order_id, "disputed")

    async def confirm_receipt(self, user_id: int, order_id: int) -> Order:
        return await self._buyer_change(user_id, order_id, "completed")

    @retry_on_conflict()
    async def _buyer_change(self, user_id: int, order_id: int, status: str) -> Order:
        async with self.db.unit_of_work() as uow:
            order = await uow.orders.get(order_id)
            if order is None or order.user_id != user_id:
                raise OrderRefused("not_found", order=order_id)
            refund = order.amount if status == "cancelled" else None
            return await self._change(uow, order, status, "buyer", refund=refund)

    @retry_on_conflict()
    async def operator_action(
        self,
        actor_id: int,
        order_id: int,
        status: str,
        *,
        tracking: str | None = None,
        refund: Money | None = None,
    ) -> Order:
        """ship, deliver, open or settle a dispute; audited with who did it."""
        if status not in ALLOWED_FROM:
            raise ValueError(f"not a status an operator sets: {status!r}")
        async with self.db.unit_of_work() as uow:
            order = await self._operators_order(uow, order_id)
            return await self._operator_change(uow, actor_id, order, status, tracking, refund)

    @retry_on_conflict()
    async def settle_dispute(
        self, actor_id: int, order_id: int, *, won: bool, refund: Money | None = None
    ) -> Order:
        """Win or lose a dispute, opening it first (in the same unit of work) if the buyer
        has not: what an operator's ``/admin_dispute`` means."""
        async with self.db.unit_of_work() as uow:
            order = await self._operators_order(uow, order_id)
            if order.status in ALLOWED_FROM["disputed"]:
                order = await self._operator_change(uow, actor_id, order, "disputed", None, None)
            status = "dispute_won" if won else "dispute_lost"
            return await self._operator_change(uow, actor_id, order, status, None, refund)

    @staticmethod
    async def _operators_order(uow: UnitOfWork, order_id: int) -> Order:
        order = await uow.orders.get(order_id)
        if order is None:
            raise OrderRefused("not_found", order=order_id)
        return order

    async def _operator_change(
        self,
        uow: UnitOfWork,
        actor_id: int,
        order: Order,
        status: str,
        tracking: str | None,
        refund: Money | None,
    ) -> Order:
        amount = None
        if status == "dispute_won":
            most = order.amount - order.refunded
            amount = most if refund is None else refund
            if not 0 < amount.minor <= most.minor:
                raise OrderRefused("refund_amount", order=order.id, most=most)
        changed = await self._change(
            uow, order, status, f"operator:{actor_id}", refund=amount, tracking=tracking
        )
        detail = tracking or (str(amount.minor) if amount else None)
        await uow.orders.audit(actor_id, order.id, status, detail, self.clock.now())
        return changed

    async def remind_due(self) -> list[int]:
        """One "confirm receipt" reminder per delivered order, ORDER_CONFIRM_REMINDER before it
        completes by itself; safe to run twice or late (a late one still names the date)."""
        now = self.clock.now()
        async with self.db.read() as uow:
            due = await uow.orders.unreminded_before(
                now - self.protection + self.reminder, _AUTO_BATCH
            )
        reminded = []
        for order in due:
            if await self._remind(order):
                reminded.append(order.id)
        return reminded

    @retry_on_conflict()
    async def _remind(self, order: Order) -> bool:
        now = self.clock.now()
        assert order.delivered_at is not None, "only delivered orders are due"
        async with self.db.unit_of_work() as uow:
            if not await uow.orders.mark_reminded(order.id, now):
                return False
            await write_notice(
                uow,
                order.user_id,
                ORDER_REMINDER,
                "notice-order-reminder",
                now,
                order=order.id,
                title=order.title,
                completes=order.delivered_at + self.protection,
            )
        return True

    async def auto_confirm_due(self) -> list[int]:
        """Delivered orders past ORDER_PROTECTION complete; safe to run twice or late."""
        due_before = self.clock.now() - self.protection
        async with self.db.read() as uow:
            due = await uow.orders.delivered_before(due_before, _AUTO_BATCH)
        done = []
        for order_id in due:
            if await self._auto_confirm(order_id):
                done.append(order_id)
        return done

    @retry_on_conflict()
    async def _auto_confirm(self, order_id: int) -> bool:
        async with self.db.unit_of_work() as uow:
            order = await uow.orders.get(order_id)
            if order is None or order.status != "delivered":
                return False
            await self._change(uow, order, "completed", "system")
        return True

    async def _change(
        self,
        uow: UnitOfWork,
        order: Order,
        status: str,
        actor: str,
        *,
        refund: Money | None = None,
        tracking: str | None = None,
    ) -> Order:
        """One status change with its money, in the caller's unit of work."""
        expected = ALLOWED_FROM[status]
        if order.status not in expected:
            raise OrderRefused(
                "illegal", order=order.id, status=OrderStatus(status), current=order.status
            )
        was_paid = order.status != "awaiting_payment"
        refund = refund if was_paid else None
        now = self.clock.now()
        changed = await uow.orders.move(
            order.id, expected, status, now, tracking=tracking, refunded=refund
        )
        if changed is None:  # changed by someone else since it was read
            current = await uow.orders.get(order.id)
            assert current is not None
            raise OrderRefused(
                "illegal", order=order.id, status=OrderStatus(status), current=current.status
            )
        if refund:
            await self._refund(uow, order, refund, status)
        if status == "cancelled" and order.product_id is not None:
            await uow.orders.release(order.product_id, order.quantity)
        if status in ("completed", "dispute_lost", "dispute_won") and order.cashback.minor:
            await self.cashback.hold_order(uow, changed)
        await uow.orders.add_event(order.id, status, actor, tracking, now)
        if was_paid:  # the operators' card, posted when it was paid, follows every change
            await self._tell_operators(uow, changed, now)
        if actor != "buyer":  # the buyer answered themselves; anyone else tells them
            await write_notice(
                uow,
                order.user_id,
                ORDER,
                CHANGED,
                now,
                card=f"order:{order.id}",
                order=order.id,
                status=status,
            )
        return changed

    async def _tell_operators(self, uow: UnitOfWork, order: Order, now: datetime) -> None:
        """The order's card in the operators' chat, as it is when the notice goes out: posted
        once, then edited in place."""
        await write_to_operators(
            uow,
            self.operators_chat,
            OPERATORS_CARD,
            now,
            card=f"order:{order.id}",
            follows_card=True,
            order=order.id,
        )

    async def _refund(self, uow: UnitOfWork, order: Order, amount: Money, reason: str) -> None:
        """Money back on the balance at once, as a certificate of its own, and the share of
        the pending cashback that belonged to it voided."""
        now = self.clock.now()
        await self.ledger.transfer(
            uow,
            f"order-refund:{order.id}:{reason}",
            "order_refund",
            ORDERS,
            Account.balance(order.user_id),
            amount,
            user_id=order.user_id,
        )
        await uow.certificates.add_certificate(order.user_id, amount, "refund", now)
        await self.cashback.void_order_share(uow, order, amount, reason)
