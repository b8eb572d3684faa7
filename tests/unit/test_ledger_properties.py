"""Property test: random ledger operations, retries included, keep every invariant.

The invariants: each entry's postings sum to zero, each cached balance equals the sum of its
postings, no user account is ever negative, and the ledger agrees with a plain-dict model.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.domain.errors import IdempotencyConflict, InsufficientFunds
from bot.domain.money import Money
from bot.services.ledger import (
    CASHBACK_EXPENSE,
    ORDERS,
    TELEGRAM_PAYMENTS,
    WITHDRAWALS,
    Account,
    Leg,
)
from tests.databases import ENABLE_HINT, TEST_DATABASE_URL, ScratchDatabase
from tests.unit.ledger_support import LedgerWorld

T = TypeVar("T")

USERS = (1, 2, 3)
KINDS = ("balance", "cashback_pending", "cashback_available")
SOURCES = (TELEGRAM_PAYMENTS, CASHBACK_EXPENSE)
SINKS = (ORDERS, WITHDRAWALS)

users = st.sampled_from(USERS)
kinds = st.sampled_from(KINDS)
amounts = st.integers(min_value=1, max_value=50_000)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


class LedgerMachine(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.folder = Path(tempfile.mkdtemp(prefix="ledger-prop-"))
        self.database = ScratchDatabase(self.backend, self.folder)
        url = self.run(self.database.create())
        self.world = self.run(LedgerWorld(url).open(*USERS))
        self.model: dict[tuple[str, int], int] = {(k, u): 0 for k in KINDS for u in USERS}
        self.applied: dict[str, list[Leg]] = {}
        self.serial = 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.world.close())
        self.run(self.database.drop())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _post(self, legs: list[Leg], key: str | None = None) -> None:
        """Post through the service and mirror the expected effect in the model."""
        if key is None:
            self.serial += 1
            key = f"op:{self.serial}"
        fits = all(
            leg.account.user_id is None
            or self.model[(leg.account.kind, leg.account.user_id)] + leg.amount.minor >= 0
            for leg in legs
        )
        try:
            result = self.run(self.world.post(key, "test", legs))
        except InsufficientFunds:
            assert not fits, "refused a debit that fits"
            return
        assert fits, "accepted a debit larger than the balance"
        assert result.created
        self.applied[key] = legs
        for leg in legs:
            if leg.account.user_id is not None:
                self.model[(leg.account.kind, leg.account.user_id)] += leg.amount.minor

    @rule(source=st.sampled_from(SOURCES), user=users, kind=kinds, amount=amounts)
    def credit(self, source: Account, user: int, kind: str, amount: int) -> None:
        self._post([Leg(source, usd(-amount)), Leg(Account(kind, user), usd(amount))])

    @rule(sink=st.sampled_from(SINKS), user=users, kind=kinds, amount=amounts)
    def debit(self, sink: Account, user: int, kind: str, amount: int) -> None:
        self._post([Leg(Account(kind, user), usd(-amount)), Leg(sink, usd(amount))])

    @rule(
        source=st.tuples(kinds, users),
        destination=st.tuples(kinds, users),
        amount=amounts,
    )
    def transfer(self, source: tuple[str, int], destination: tuple[str, int], amount: int) -> None:
        if source == destination:
            return
        self._post([Leg(Account(*source), usd(-amount)), Leg(Account(*destination), usd(amount))])

    @rule(user=users, amount=amounts, split=st.integers(min_value=0, max_value=100))
    def pay_with_balance_and_cashback(self, user: int, amount: int, split: int) -> None:
        """A three-leg entry: either both user legs apply, or neither does."""
        from_cashback = amount * split // 100
        from_balance = amount - from_cashback
        legs = [Leg(ORDERS, usd(amount))]
        if from_balance:
            legs.append(Leg(Account.balance(user), usd(-from_balance)))
        if from_cashback:
            legs.append(Leg(Account.cashback_available(user), usd(-from_cashback)))
        self._post(legs)

    @precondition(lambda self: bool(self.applied))
    @rule(data=st.data())
    def retry_same_key(self, data: st.DataObject) -> None:
        """Telegram re-delivers: the same key again changes nothing and names the first entry."""
        key = data.draw(st.sampled_from(sorted(self.applied)))
        before = dict(self.model)
        result = self.run(self.world.post(key, "test", self.applied[key]))
        assert not result.created
        assert self.model == before

    @precondition(lambda self: bool(self.applied))
    @rule(data=st.data(), amount=amounts)
    def reuse_key_for_something_else(self, data: st.DataObject, amount: int) -> None:
        key = data.draw(st.sampled_from(sorted(self.applied)))
        legs = [Leg(TELEGRAM_PAYMENTS, usd(-amount)), Leg(Account.balance(1), usd(amount))]
        if legs == self.applied[key]:
            return
        try:
            self.run(self.world.post(key, "test", legs))
        except IdempotencyConflict:
            return
        raise AssertionError("a reused key with other legs was applied")

    @invariant()
    def ledger_invariants_hold(self) -> None:
        assert self.run(self.world.ledger.check_invariants()) == []

    @invariant()
    def balances_match_the_model(self) -> None:
        for user in USERS:
            balances = self.run(self.world.ledger.balances(user))
            assert balances.balance.minor == self.model[("balance", user)]
            assert balances.cashback_pending.minor == self.model[("cashback_pending", user)]
            assert balances.cashback_available.minor == self.model[("cashback_available", user)]

    @invariant()
    def system_accounts_mirror_user_accounts(self) -> None:
        """Double entry: what users hold is exactly what the system accounts gave out."""
        rows = self.run(self.world.fetch("SELECT COALESCE(SUM(balance), 0) FROM accounts"))
        assert rows[0][0] == 0


class PostgresLedgerMachine(LedgerMachine):
    backend = "postgresql"


LedgerMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
PostgresLedgerMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=30, deadline=None
)
TestLedgerPropertiesOnSQLite = LedgerMachine.TestCase
TestLedgerPropertiesOnPostgreSQL = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason=f"PostgreSQL tests skipped: {ENABLE_HINT}"
)(PostgresLedgerMachine.TestCase)
