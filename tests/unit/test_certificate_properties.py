"""Property test: random sequences of certificate purchases (re-delivered ones included),
refunds, gifts, claims, expiries, spends, orders with cashback, hold releases, withdrawals and
moves to the balance keep the books, the certificates and the accruals in step.

Invariants after every step: the ledger's own (entries sum to zero, cached balances, nothing
negative), each user's certificates sum to their balance, the escrow holds exactly the open
gifts, and every balance agrees with a plain model.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Coroutine
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.domain.errors import (
    BalanceCapExceeded,
    CashbackRefused,
    GiftOwnCode,
    GiftUnavailable,
    InsufficientFunds,
    OrderRefused,
    RefundRefused,
)
from bot.domain.money import Money
from bot.services.cards import CardService, check_number
from bot.services.ledger import ORDERS
from bot.services.security import QUESTION_CODES
from tests.databases import ENABLE_HINT, TEST_DATABASE_URL, ScratchDatabase
from tests.unit.test_orders import OPERATOR, PASSWORD, Shop

T = TypeVar("T")
USERS = (201, 202, 203)
users = st.sampled_from(USERS)
amounts = st.integers(min_value=500, max_value=20_000)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


class CertificateMachine(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="cert-prop-"))
        self.database = ScratchDatabase(self.backend, self.folder)
        url = self.run(self.database.create())
        self.world = Shop(url, balance_max=usd(50_000))
        self.run(self.world.base.open(*USERS))
        cards = CardService(self.world.base.db, self.world.base.clock)
        self.card = {}
        for user in USERS:
            self.run(self._password(user))
            card = self.run(cards.add(user, check_number("4111111111111111"), "12/40"))
            self.card[user] = card.id
        self.balance = dict.fromkeys(USERS, 0)
        self.cashback = dict.fromkeys(USERS, 0)
        self.charges: dict[str, tuple[int, int, str]] = {}  # charge → (user, amount, purpose)
        self.gifts: dict[str, tuple[int, int]] = {}  # open code → (giver, amount)
        self.code_of: dict[str, str] = {}  # a gift purchase's charge → its code
        self.serial = 0
        # balance = bought + received - paid + refunded, per user (refunded certificates count
        # as un-bought); checked after every step.
        self.bought = dict.fromkeys(USERS, 0)
        self.received = dict.fromkeys(USERS, 0)
        self.paid = dict.fromkeys(USERS, 0)
        self.refunded = dict.fromkeys(USERS, 0)
        self.orders: dict[int, tuple[int, int]] = {}  # paid order → (user, amount)
        self.moved = dict.fromkeys(USERS, 0)  # cashback moved onto the balance
        self.pending = dict.fromkeys(USERS, 0)  # cashback pending or on hold
        self.order_cashback: dict[int, int] = {}  # paid order → its pending cashback
        self.held: list[tuple[int, int, object]] = []  # (user, amount, hold_until)
        self.requests: dict[int, tuple[int, int]] = {}  # open withdrawal → (user, amount)

    async def _password(self, user: int) -> None:
        security = self.world.security
        answers = tuple([await security.hash_answer("x")] * 3)
        await security.set_up(
            user, await security.hash_new_password(PASSWORD), QUESTION_CODES[:3], answers
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.world.base.close())
        self.run(self.database.drop())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(user=users, amount=amounts, gift=st.booleans(), redeliver=st.booleans())
    def buy(self, user: int, amount: int, gift: bool, redeliver: bool) -> None:
        self.serial += 1
        charge = f"c{self.serial}"
        purpose = "gift" if gift else "self"
        try:
            self.run(self.world.pay(user, amount, purpose, charge=charge))
        except BalanceCapExceeded:
            assert not gift and self.balance[user] + amount > 50_000
            return
        if redeliver:
            purchase = self.run(self.world.certificates.charges_by_id([charge]))[charge]
            again = self.run(
                self.world.certificates.complete_payment(
                    user, purchase.public_id, "XTR", purchase.invoice_amount, charge, "p"
                )
            )
            assert not again.created
        self.charges[charge] = (user, amount, purpose)
        self.cashback[user] += (
            usd(amount).percent(self.world.certificates.policy.cashback_percent).minor
        )
        if gift:
            made = self.run(self.world.gifts.latest_of(user))
            assert made is not None
            self.gifts[made.code] = (user, amount)
            self.code_of[charge] = made.code
        else:
            self.balance[user] += amount
            self.bought[user] += amount

    @precondition(lambda self: bool(self.charges))
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        charge = data.draw(st.sampled_from(sorted(self.charges)))
        user, amount, purpose = self.charges[charge]
        try:
            result = self.run(self.world.certificates.reverse(charge))
        except RefundRefused:
            return
        if not result.reversed:
            return
        self.cashback[user] -= (
            usd(amount).percent(self.world.certificates.policy.cashback_percent).minor
        )
        if purpose == "self":
            self.balance[user] -= amount
            self.bought[user] -= amount
        else:
            del self.gifts[self.code_of[charge]]  # only an open gift can be refunded

    @precondition(lambda self: bool(self.gifts))
    @rule(data=st.data(), claimer=users)
    def claim(self, data: st.DataObject, claimer: int) -> None:
        # In insertion order: the codes themselves are random, their order must not be.
        code = data.draw(st.sampled_from(list(self.gifts)))
        giver, amount = self.gifts[code]
        try:
            self.run(self.world.gifts.claim(claimer, code))
        except GiftOwnCode:
            assert claimer == giver
            return
        except BalanceCapExceeded:
            assert self.balance[claimer] + amount > 50_000
            return
        del self.gifts[code]
        self.balance[claimer] += amount
        self.received[claimer] += amount
        with pytest.raises(GiftUnavailable):
            self.run(
                self.world.gifts.claim(next(u for u in USERS if u not in (giver, claimer)), code)
            )

    @rule(days=st.integers(min_value=1, max_value=40))
    def time_passes(self, days: int) -> None:
        self.world.base.clock.advance(timedelta(days=days))
        for gift in self.run(self.world.gifts.expire_due()):
            del self.gifts[gift.code]
            self.balance[gift.giver_id] += gift.amount.minor
            self.received[gift.giver_id] += gift.amount.minor

    @rule(user=users, amount=st.integers(min_value=1, max_value=30_000))
    def spend(self, user: int, amount: int) -> None:
        self.serial += 1

        async def pay() -> None:
            async with self.world.base.db.unit_of_work() as uow:
                await self.world.certificates.spend(
                    uow, user, usd(amount), key=f"order:{self.serial}", kind="order", to=ORDERS
                )

        try:
            self.run(pay())
        except InsufficientFunds:
            assert amount > self.balance[user]
            return
        assert amount <= self.balance[user]
        self.balance[user] -= amount
        self.paid[user] += amount

    @rule(
        user=users,
        amount=st.integers(min_value=1, max_value=30_000),
        percent=st.sampled_from([0, 3, 10]),
    )
    def pay_order(self, user: int, amount: int, percent: int) -> None:
        order = self.run(
            self.world.orders.create(user, "Goods", usd(amount), cashback_percent=Decimal(percent))
        )
        try:
            self.run(self.world.pay_order(user, order.id))
        except InsufficientFunds:
            assert amount > self.balance[user]
            return
        self.balance[user] -= amount
        self.paid[user] += amount
        self.orders[order.id] = (user, amount)
        self.order_cashback[order.id] = order.cashback.minor
        self.pending[user] += order.cashback.minor

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def cancel_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        user, amount = self.orders.pop(order_id)
        self.run(self.world.orders.cancel(user, order_id))
        self.balance[user] += amount
        self.refunded[user] += amount
        self.pending[user] -= self.order_cashback.pop(order_id)
        with pytest.raises(OrderRefused):  # once only
            self.run(self.world.orders.cancel(user, order_id))

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def receive_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        user, _ = self.orders.pop(order_id)
        self._deliver(order_id)
        self.run(self.world.orders.confirm_receipt(user, order_id))
        self._hold(user, self.order_cashback.pop(order_id))

    def _deliver(self, order_id: int) -> None:
        self.run(self.world.orders.operator_action(OPERATOR, order_id, "shipped"))
        self.run(self.world.orders.operator_action(OPERATOR, order_id, "delivered"))

    def _hold(self, user: int, cashback: int) -> None:
        """The order's cashback goes on hold until the hold ends (nothing when there is none)."""
        if cashback:
            until = self.world.base.clock.now() + self.world.cashback.policy.hold
            self.held.append((user, cashback, until))

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), won=st.booleans())
    def dispute_order(self, data: st.DataObject, won: bool) -> None:
        """Delivered, disputed by the buyer, then won in full (money back, cashback voided) or
        lost (the cashback goes on hold as if received)."""
        order_id = data.draw(st.sampled_from(sorted(self.orders)))
        user, amount = self.orders.pop(order_id)
        self._deliver(order_id)
        self.run(self.world.orders.open_dispute(user, order_id))
        refund = usd(amount) if won else None
        self.run(self.world.orders.settle_dispute(OPERATOR, order_id, won=won, refund=refund))
        cashback = self.order_cashback.pop(order_id)
        if won:
            self.balance[user] += amount
            self.refunded[user] += amount
            self.pending[user] -= cashback
        else:
            self._hold(user, cashback)

    @rule(hours=st.integers(min_value=1, max_value=24 * 20))
    def hold_time_passes(self, hours: int) -> None:
        self.world.base.clock.advance(timedelta(hours=hours))
        released = self.run(self.world.cashback.release_due())
        now = self.world.base.clock.now()
        due = [entry for entry in self.held if entry[2] <= now]  # type: ignore[operator]
        assert released.minor == sum(amount for _, amount, _ in due)
        for user, amount, _ in due:
            self.pending[user] -= amount
            self.cashback[user] += amount
        self.held = [entry for entry in self.held if entry not in due]
        assert self.run(self.world.cashback.release_due()).minor == 0

    @rule(user=users)
    def withdraw(self, user: int) -> None:
        cashback = self.world.cashback
        try:
            operation = self.run(cashback.prepare_withdrawal(user, self.card[user]))
        except CashbackRefused as refused:
            assert refused.reason == "below_minimum" and self.cashback[user] < 500
            return
        self.run(self.world.security.confirm_operation(user, operation.id, PASSWORD))
        request = self.run(cashback.withdrawal_of(operation))
        assert request.amount.minor == self.cashback[user]
        self.requests[request.id] = (user, request.amount.minor)
        self.cashback[user] = 0

    @precondition(lambda self: bool(self.requests))
    @rule(data=st.data(), approve=st.booleans())
    def decide_withdrawal(self, data: st.DataObject, approve: bool) -> None:
        request_id = data.draw(st.sampled_from(sorted(self.requests)))
        user, amount = self.requests.pop(request_id)
        self.run(
            self.world.cashback.decide_withdrawal(
                OPERATOR, request_id, approve=approve, reason=None if approve else "policy"
            )
        )
        if not approve:
            self.cashback[user] += amount
        with pytest.raises(CashbackRefused):  # decided once
            self.run(self.world.cashback.decide_withdrawal(OPERATOR, request_id, approve=True))

    @rule(user=users)
    def move_to_balance(self, user: int) -> None:
        room = 50_000 - self.balance[user]
        try:
            operation = self.run(self.world.cashback.prepare_move(user))
        except CashbackRefused as refused:
            assert (refused.reason, self.cashback[user]) == ("nothing", 0) or (
                refused.reason == "cap" and room <= 0
            )
            return
        assert operation.amount.minor == min(self.cashback[user], room)
        self.run(self.world.security.confirm_operation(user, operation.id, PASSWORD))
        self.cashback[user] -= operation.amount.minor
        self.balance[user] += operation.amount.minor
        self.moved[user] += operation.amount.minor

    @invariant()
    def books_and_certificates_agree(self) -> None:
        self.run(self.world.check())

    @invariant()
    def balances_match_the_model(self) -> None:
        for user in USERS:
            balances = self.run(self.world.base.ledger.balances(user))
            assert balances.balance.minor == self.balance[user]
            assert balances.cashback_available.minor == self.cashback[user]
            assert balances.cashback_pending.minor == self.pending[user]

    @invariant()
    def balance_is_bought_plus_received_minus_paid_plus_refunded(self) -> None:
        for user in USERS:
            expected = (
                self.bought[user]
                + self.received[user]
                + self.moved[user]
                - self.paid[user]
                + self.refunded[user]
            )
            balance = self.run(self.world.base.ledger.balances(user)).balance.minor
            assert balance == expected

    @invariant()
    def withdrawals_hold_the_requests_and_the_paid(self) -> None:
        rows = self.run(
            self.world.base.fetch(
                "SELECT COALESCE(SUM(amount), 0) FROM withdrawals WHERE status <> 'rejected'"
            )
        )
        account = self.run(
            self.world.base.fetch(
                "SELECT balance FROM accounts WHERE kind = 'withdrawals' AND user_id IS NULL"
            )
        )
        assert account[0][0] == rows[0][0]

    @invariant()
    def escrow_holds_the_open_gifts(self) -> None:
        rows = self.run(
            self.world.base.fetch(
                "SELECT balance FROM accounts WHERE kind = 'gift_escrow' AND user_id IS NULL"
            )
        )
        assert rows[0][0] == sum(amount for _, amount in self.gifts.values())


class PostgresCertificateMachine(CertificateMachine):
    backend = "postgresql"


# CI runs a few dozen sequences; PROPERTY_EXAMPLES=10000 runs the full count (see the README).
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "15"))
CertificateMachine.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=20, deadline=None
)
PostgresCertificateMachine.TestCase.settings = settings(
    max_examples=max(1, EXAMPLES * 2 // 5), stateful_step_count=20, deadline=None
)
TestCertificatePropertiesOnSQLite = CertificateMachine.TestCase
TestCertificatePropertiesOnPostgreSQL = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason=f"PostgreSQL tests skipped: {ENABLE_HINT}"
)(PostgresCertificateMachine.TestCase)
