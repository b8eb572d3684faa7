"""The payment account's rules, on SQLite and PostgreSQL: hashing, lockout, recovery, pending
operations exactly once, operator resets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.domain.errors import (
    AccountLocked,
    ConfirmationRefused,
    NoPassword,
    OperationGone,
    PasswordAlreadySet,
    WeakPassword,
    WrongAnswers,
    WrongPassword,
)
from bot.domain.models import PendingOperation
from bot.domain.money import Money
from bot.services.hashing import SecretHasher
from bot.services.ledger import ORDERS, TELEGRAM_PAYMENTS, Account
from bot.services.security import (
    QUESTION_CODES,
    SecurityService,
    normalize_answer,
    password_problem,
)
from bot.storage.uow import UnitOfWork
from tests.unit.ledger_support import LedgerWorld

ANN, BOB = 11, 22
PEPPER = b"test-pepper-" * 4
PASSWORD = "Gift-Wallet-42"
QUESTIONS = QUESTION_CODES[:3]
ANSWERS = ("Москва", "Barsik", "School 57")


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[LedgerWorld]:
    opened = await LedgerWorld(database_url).open(ANN, BOB)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def security(world: LedgerWorld) -> SecurityService:
    return SecurityService(world.db, SecretHasher(PEPPER), world.clock)


async def set_up(security: SecurityService, user_id: int = ANN) -> None:
    await security.set_up(
        user_id,
        await security.hash_new_password(PASSWORD),
        QUESTIONS,
        tuple([await security.hash_answer(a) for a in ANSWERS]),
    )


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("12345", "too_short"),
        ("x" * 33, "too_long"),
        ("aaaaaaa", "one_char"),
        ("123456", "sequence"),
        ("987654", "sequence"),
        ("abcdefg", "sequence"),
        ("qwerty123", "common"),
        ("Пароль", "common"),
        ("anna1990", "name"),
        ("Gift-Wallet-42", None),
        ("135792", None),
    ],
)
def test_password_rules(password: str, reason: str | None) -> None:
    assert password_problem(password, "Anna") == reason


@pytest.mark.parametrize("typed", ["Москва", " москва ", "МОСКВА", "мОсКвА\t"])
def test_answers_are_normalized(typed: str) -> None:
    assert normalize_answer(typed) == "москва"


def test_full_width_letters_become_plain() -> None:
    assert normalize_answer("Ｍｏｓｃｏｗ") == "moscow"


def test_yo_and_inner_spaces() -> None:
    assert normalize_answer("  Ёлки   Палки ") == normalize_answer("елки палки")


async def test_set_up_stores_only_slow_salted_hashes(
    world: LedgerWorld, security: SecurityService
) -> None:
    assert not await security.has_password(ANN)
    await set_up(security)
    assert await security.has_password(ANN)
    rows = await world.fetch("SELECT password_hash, answer_hashes FROM security")
    stored = " ".join(str(v) for row in rows for v in row)
    assert stored.count("$argon2id$v=19$m=19456,t=2,p=1$") == 4
    for secret in (PASSWORD, *ANSWERS, "москва", "barsik"):
        assert secret not in stored
    with pytest.raises(PasswordAlreadySet):
        await set_up(security)


async def test_verify_and_the_lockout_on_the_injected_clock(
    world: LedgerWorld, security: SecurityService
) -> None:
    await set_up(security)
    await security.verify_password(ANN, PASSWORD)
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPassword) as wrong:
            await security.verify_password(ANN, "not-it")
        assert wrong.value.params == {"attempts_left": left}
    with pytest.raises(AccountLocked) as locked:
        await security.verify_password(ANN, "not-it")
    start = world.clock.now()
    assert locked.value.params["until"] == start + timedelta(minutes=15)
    # Locked: even the right password is refused, and recovery too.
    with pytest.raises(AccountLocked):
        await security.verify_password(ANN, PASSWORD)
    with pytest.raises(AccountLocked):
        await security.questions_of(ANN)
    world.clock.advance(timedelta(minutes=15))
    # The second lockout in a row lasts twice as long.
    for _ in range(5):
        with pytest.raises((WrongPassword, AccountLocked)):
            await security.verify_password(ANN, "still-not-it")
    with pytest.raises(AccountLocked) as again:
        await security.verify_password(ANN, PASSWORD)
    assert again.value.params["until"] == world.clock.now() + timedelta(minutes=30)
    world.clock.advance(timedelta(minutes=30))
    await security.verify_password(ANN, PASSWORD)
    # A success resets everything: five more failures lock for 15 minutes again.
    record = await world.fetch("SELECT failures, locks, locked_until FROM security")
    assert record[0][0] == 0 and record[0][1] == 0


async def test_failures_outside_the_window_start_a_new_count(
    world: LedgerWorld, security: SecurityService
) -> None:
    await set_up(security)
    for _ in range(4):
        with pytest.raises(WrongPassword):
            await security.verify_password(ANN, "nope-nope")
    world.clock.advance(timedelta(minutes=16))
    with pytest.raises(WrongPassword) as wrong:
        await security.verify_password(ANN, "nope-nope")
    assert wrong.value.params == {"attempts_left": 4}


async def test_recovery_with_answers_in_other_case_and_spacing(
    world: LedgerWorld, security: SecurityService
) -> None:
    await set_up(security)
    assert await security.questions_of(ANN) == QUESTIONS
    typed = (" МОСКВА ", "barsik", "school   57")
    results = [await security.check_answer(ANN, i, a) for i, a in enumerate(typed)]
    assert results == [True, True, True]
    await security.finish_recovery(ANN, all(results))
    await security.set_password(ANN, await security.hash_new_password("New-Secret-7"))
    await security.verify_password(ANN, "New-Secret-7")
    with pytest.raises(WrongPassword):
        await security.verify_password(ANN, PASSWORD)


async def test_wrong_answers_count_toward_the_lockout(security: SecurityService) -> None:
    await set_up(security)
    assert not await security.check_answer(ANN, 1, "Murzik")
    with pytest.raises(WrongAnswers) as wrong:
        await security.finish_recovery(ANN, all_right=False)
    assert wrong.value.params == {"attempts_left": 4}


async def test_no_password_yet(security: SecurityService) -> None:
    with pytest.raises(NoPassword):
        await security.verify_password(BOB, "whatever1")


async def test_weak_password_is_refused_with_its_reason(security: SecurityService) -> None:
    with pytest.raises(WeakPassword) as weak:
        await security.hash_new_password("111111")
    assert weak.value.key == "password-weak-one-char"


async def test_a_pending_operation_runs_once_and_only_for_its_owner(
    world: LedgerWorld, security: SecurityService
) -> None:
    await set_up(security)
    await world.transfer(
        "tg-charge:1",
        "certificate_purchase",
        TELEGRAM_PAYMENTS,
        Account.balance(ANN),
        Money(5000, "USD"),
        user_id=ANN,
    )

    async def pay(uow: UnitOfWork, operation: PendingOperation) -> None:
        assert operation.amount is not None
        await world.ledger.transfer(
            uow,
            f"test-pay:{operation.id}",
            "test_payment",
            Account.balance(operation.user_id),
            ORDERS,
            operation.amount,
            user_id=operation.user_id,
        )

    security.register("test_payment", pay)
    operation = await security.create_operation(
        ANN, "test_payment", key="t:1", amount=Money(1201, "USD")
    )
    with pytest.raises(OperationGone):  # somebody else's
        await security.confirm_operation(BOB, operation.id, PASSWORD)
    with pytest.raises(WrongPassword):  # counts, runs nothing
        await security.confirm_operation(ANN, operation.id, "wrong-one")
    assert (await world.ledger.balances(ANN)).balance == Money(5000, "USD")
    done = await security.confirm_operation(ANN, operation.id, PASSWORD)
    assert done.id == operation.id
    with pytest.raises(OperationGone):  # a double tap, or the update delivered again
        await security.confirm_operation(ANN, operation.id, PASSWORD)
    assert (await world.ledger.balances(ANN)).balance == Money(3799, "USD")

    expired = await security.create_operation(
        ANN, "test_payment", key="t:2", amount=Money(1, "USD")
    )
    world.clock.advance(timedelta(minutes=11))
    with pytest.raises(OperationGone):
        await security.confirm_operation(ANN, expired.id, PASSWORD)
    cancelled = await security.create_operation(
        ANN, "test_payment", key="t:3", amount=Money(1, "USD")
    )
    await security.cancel_operation(ANN, cancelled.id)
    with pytest.raises(OperationGone):
        await security.confirm_operation(ANN, cancelled.id, PASSWORD)
    assert (await world.ledger.balances(ANN)).balance == Money(3799, "USD")


async def test_an_operator_reset_clears_and_is_audited(
    world: LedgerWorld, security: SecurityService
) -> None:
    await set_up(security)
    assert await security.admin_reset(900, ANN)
    assert not await security.has_password(ANN)
    async with world.db.read() as uow:
        log = await uow.security.audit_log(ANN)
    assert [(actor, action) for actor, action, _ in log] == [(900, "reset_password")]
    await set_up(security)  # the user sets them anew
    assert await security.has_password(ANN)


async def test_old_parameters_are_upgraded_on_the_next_success(
    world: LedgerWorld, security: SecurityService
) -> None:
    old = SecurityService(
        world.db, SecretHasher(PEPPER, memory_kib=8 * 1024, time_cost=1), world.clock
    )
    await set_up(old)
    await security.verify_password(ANN, PASSWORD)
    rows = await world.fetch("SELECT password_hash FROM security")
    assert rows[0][0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    await security.verify_password(ANN, PASSWORD)


async def test_concurrent_wrong_passwords_each_count(security: SecurityService) -> None:
    """Five wrong tries at the same moment: each counts, and exactly one locks."""
    await set_up(security)
    results = await asyncio.gather(
        *(security.verify_password(ANN, "wrong-guess") for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, AccountLocked) for r in results) == 1
    assert sum(isinstance(r, WrongPassword) for r in results) == 4
    with pytest.raises(AccountLocked):
        await security.verify_password(ANN, PASSWORD)


async def test_app_nonces_are_single_use_and_forgotten_a_day_after_they_lapse(
    world: LedgerWorld, security: SecurityService
) -> None:
    await set_up(security)

    async def nothing(uow: UnitOfWork, operation: PendingOperation) -> None:
        return None

    security.register("test_nothing", nothing)
    operation = await security.create_operation(ANN, "test_nothing", key="n:1")
    first, second = [await security.issue_nonce(ANN, operation.id) for _ in range(2)]
    assert first != second
    with pytest.raises(ConfirmationRefused):  # Bob cannot spend Ann's nonce
        await security.confirm_with_password(BOB, first, PASSWORD)
    with pytest.raises(WrongPassword):
        await security.confirm_with_password(ANN, first, "wrong-one")
    with pytest.raises(ConfirmationRefused):  # the wrong try spent it
        await security.confirm_with_password(ANN, first, PASSWORD)
    world.clock.advance(timedelta(minutes=3))
    with pytest.raises(ConfirmationRefused):  # lapsed after two minutes
        await security.confirm_with_password(ANN, second, PASSWORD)
    assert await security.forget_nonces() == 0  # kept a day for a look at what happened
    world.clock.advance(timedelta(days=1))
    assert await security.forget_nonces() == 2
