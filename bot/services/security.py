"""The payment account: password, security questions, recovery, lockout, pending operations.

Passwords and answers are only ever stored as argon2id hashes (see hashing.py). Failed password
entries and failed recoveries share one counter: ``max_failures`` within ``window`` lock
spending and recovery for ``lock_period``, doubled on each repeated lockout, until a success.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import pairwise
from typing import Any

from bot.domain.clock import Clock
from bot.domain.errors import (
    AccountLocked,
    ConfirmationRefused,
    InvalidAnswer,
    NoPassword,
    OperationGone,
    PasswordAlreadySet,
    WeakPassword,
    WrongAnswers,
    WrongPassword,
)
from bot.domain.models import PendingOperation, SecretRecord
from bot.domain.money import Money
from bot.services.hashing import SecretHasher
from bot.services.notices import ACCOUNT, RECEIPT, write_notice
from bot.storage.database import Database, retry_on_conflict
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

PASSWORD_MIN, PASSWORD_MAX = 6, 32
# How long the Mini App has to send a confirmation's nonce back, and how long a spent or
# lapsed one is kept (for an operator's look at what happened) before it is deleted.
NONCE_TTL = timedelta(minutes=2)
NONCE_KEPT = timedelta(days=1)
ANSWER_MAX = 100
QUESTIONS_PER_USER = 3
# Codes of the security questions; their wording is in the locales as "question-<code>".
QUESTION_CODES = (
    "first-pet",
    "birth-city",
    "first-school",
    "first-teacher",
    "favorite-book",
    "childhood-friend",
    "first-car",
    "childhood-street",
    "parents-met",
)
_COMMON = frozenset(
    {
        "password",
        "passw0rd",
        "qwerty",
        "qwertyui",
        "qwerty123",
        "1q2w3e",
        "1q2w3e4r",
        "123123",
        "123321",
        "112233",
        "121212",
        "iloveyou",
        "letmein",
        "monkey",
        "dragon",
        "йцукен",
        "пароль",
    }
)

# Runs a confirmed operation in the caller's unit of work; the id of what it made, if anything.
Executor = Callable[[UnitOfWork, PendingOperation], Awaitable[int | None]]


def normalize_answer(answer: str) -> str:
    """` москва `, `МОСКВА` and `Москва` are one answer: NFKC, trimmed, one space, caseless."""
    text = unicodedata.normalize("NFKC", answer)
    text = " ".join(text.split()).casefold()
    return text.replace("ё", "е")


def password_problem(password: str, first_name: str = "") -> str | None:
    """Why a new password is refused, as a reason code, or None when it is acceptable."""
    if len(password) < PASSWORD_MIN:
        return "too_short"
    if len(password) > PASSWORD_MAX:
        return "too_long"
    if len(set(password)) == 1:
        return "one_char"
    steps = {ord(b) - ord(a) for a, b in pairwise(password)}
    if steps in ({1}, {-1}):
        return "sequence"  # 123456, abcdef, 987654
    if password.casefold() in _COMMON:
        return "common"
    name = first_name.strip().casefold()
    if len(name) >= 3 and name in password.casefold():
        return "name"
    return None


def _digest(secret: str) -> str:
    """What is stored of a nonce or a biometric token: 256 random bits need no slow hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Lockout:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    period: timedelta = timedelta(minutes=15)


class SecurityService:
    def __init__(
        self, db: Database, hasher: SecretHasher, clock: Clock, lockout: Lockout | None = None
    ) -> None:
        self.db = db
        self.hasher = hasher
        self.clock = clock
        self.lockout = lockout or Lockout()
        self._executors: dict[str, Executor] = {}

    # --- set-up ------------------------------------------------------------------------------

    async def has_password(self, user_id: int) -> bool:
        record = await self._record(user_id)
        return record is not None and record.password_hash is not None

    async def hash_new_password(self, password: str, first_name: str = "") -> str:
        """Check the rules, then hash: what a dialogue keeps between "type it" and "again"."""
        problem = password_problem(password, first_name)
        if problem is not None:
            raise WeakPassword(problem, min=PASSWORD_MIN, max=PASSWORD_MAX)
        return await self.hasher.hash(password)

    async def matches(self, hashed: str, password: str) -> bool:
        """The second entry of a new password against the first one's hash."""
        return await self.hasher.verify(hashed, password)

    async def hash_answer(self, answer: str) -> str:
        normalized = normalize_answer(answer)
        if not normalized or len(normalized) > ANSWER_MAX:
            raise InvalidAnswer(max=ANSWER_MAX)
        return await self.hasher.hash(normalized)

    @retry_on_conflict()
    async def set_up(
        self,
        user_id: int,
        password_hash: str,
        questions: tuple[str, ...],
        answer_hashes: tuple[str, ...],
    ) -> None:
        """Store a first password with three different questions and their answers' hashes."""
        if (
            len(questions) != QUESTIONS_PER_USER
            or len(set(questions)) != QUESTIONS_PER_USER
            or not set(questions) <= set(QUESTION_CODES)
            or len(answer_hashes) != QUESTIONS_PER_USER
        ):
            raise ValueError("three different known questions, each with an answer")
        async with self.db.unit_of_work() as uow:
            existing = await uow.security.get(user_id)
            if existing is not None and existing.password_hash is not None:
                raise PasswordAlreadySet()
            await uow.security.set_secrets(
                user_id, password_hash, questions, answer_hashes, self.clock.now()
            )
        log.info("event=password_set user_id=%s", user_id)

    @retry_on_conflict()
    async def set_password(self, user_id: int, password_hash: str) -> None:
        """A new password once the current one or the answers were proven (change, recover)."""
        async with self.db.unit_of_work() as uow:
            if await uow.security.get(user_id) is None:
                raise NoPassword()
            await uow.security.set_password_hash(user_id, password_hash, self.clock.now())
            # A new password (changed, or recovered) ends every device's biometric token.
            revoked = await uow.security.revoke_devices(user_id)
        log.info("event=password_changed user_id=%s devices_revoked=%d", user_id, revoked)

    # --- verifying, with the lockout --------------------------------------------------------------

    async def ensure_unlocked(self, user_id: int) -> SecretRecord:
        record = await self._record(user_id)
        if record is None or record.password_hash is None:
            raise NoPassword()
        now = self.clock.now()
        if record.locked_until is not None and record.locked_until > now:
            raise AccountLocked(until=record.locked_until, left=record.locked_until - now)
        return record

    async def verify_password(self, user_id: int, password: str) -> None:
        """Pass, or raise WrongPassword / AccountLocked; a failure counts toward the lockout."""
        record = await self.ensure_unlocked(user_id)
        assert record.password_hash is not None
        if not await self.hasher.verify(record.password_hash, password):
            left = await self._failed(user_id)
            raise WrongPassword(attempts_left=left)
        await self._succeeded(record)
        if self.hasher.needs_rehash(record.password_hash):
            # Hashed before the unit of work, which must not hold SQLite's lock for 16 ms.
            rehashed = await self.hasher.hash(password)
            async with self.db.unit_of_work() as uow:
                await uow.security.set_password_hash(user_id, rehashed, self.clock.now())
            log.info("event=password_rehashed user_id=%s", user_id)

    async def questions_of(self, user_id: int) -> tuple[str, ...]:
        record = await self.ensure_unlocked(user_id)
        return record.questions

    async def check_answer(self, user_id: int, index: int, answer: str) -> bool:
        """One answer against its hash; the dialogue tells the user only after all three."""
        record = await self.ensure_unlocked(user_id)
        if not 0 <= index < len(record.answer_hashes):
            return False
        return await self.hasher.verify(record.answer_hashes[index], normalize_answer(answer))

    async def finish_recovery(self, user_id: int, all_right: bool) -> None:
        """After the last answer: a failure counts toward the lockout and says nothing more."""
        record = await self.ensure_unlocked(user_id)
        if not all_right:
            left = await self._failed(user_id)
            raise WrongAnswers(attempts_left=left)
        await self._succeeded(record)

    @retry_on_conflict()
    async def _failed(self, user_id: int) -> int:
        """Count a failure; lock when the window is full. Returns the tries left (0 = locked)."""
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            # One statement counts, so two wrong tries at the same instant count as two.
            counted = await uow.security.count_failure(user_id, now, now - self.lockout.window)
            if counted is None:
                raise NoPassword()
            failures, locks = counted
            if failures < self.lockout.max_failures:
                return self.lockout.max_failures - failures
            locks += 1
            until = now + self.lockout.period * 2 ** (locks - 1)
            await uow.security.save_lockout(user_id, 0, None, until, locks, now)
        log.warning("event=account_locked user_id=%s until=%s", user_id, until.isoformat())
        raise AccountLocked(until=until, left=until - now)

    async def _succeeded(self, record: SecretRecord) -> None:
        """A success clears the failures, reusing the record the check has just read."""
        if record.failures or record.locks:
            async with self.db.unit_of_work() as uow:
                await uow.security.save_lockout(record.user_id, 0, None, None, 0, self.clock.now())

    async def _record(self, user_id: int) -> SecretRecord | None:
        async with self.db.read() as uow:
            return await uow.security.get(user_id)

    # --- pending operations -----------------------------------------------------------------------

    def register(self, kind: str, executor: Executor) -> None:
        """What confirming an operation of ``kind`` does, in the unit of work that marks it done."""
        self._executors[kind] = executor

    @retry_on_conflict()
    async def create_operation(
        self,
        user_id: int,
        kind: str,
        *,
        key: str,
        amount: Money | None = None,
        payload: dict[str, Any] | None = None,
        ttl: timedelta = timedelta(minutes=10),
    ) -> PendingOperation:
        """What the password will confirm, created once per ``key``: a double tap or a replayed
        update gets the operation that is still waiting. Once it ran, was cancelled or expired,
        the same key makes a new one."""
        if kind not in self._executors:
            raise LookupError(f"no executor for operations of kind {kind!r}")
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            while True:
                made = await uow.security.operation_by_key(key)
                if made is None:
                    break
                if made.user_id == user_id and made.kind == kind and made.live(now):
                    return made
                key = f"{key}>{made.id}"
            operation = PendingOperation(
                id=secrets.token_urlsafe(9),
                user_id=user_id,
                kind=kind,
                amount=amount,
                payload=dict(payload or {}),
                created_at=now,
                expires_at=now + ttl,
                key=key,
            )
            if not await uow.security.add_operation(operation):
                # A twin with the same key committed first: that one is the operation.
                twin = await uow.security.operation_by_key(key)
                assert twin is not None
                return twin
        return operation

    async def confirm_operation(
        self, user_id: int, operation_id: str, password: str
    ) -> PendingOperation:
        """The password, then the operation, exactly once: a second confirmation (a double tap,
        a re-delivered update) finds it done and raises OperationGone."""
        await self._live_operation(user_id, operation_id)
        await self.verify_password(user_id, password)
        async with self.db.unit_of_work() as uow:
            operation = await self._execute(uow, user_id, operation_id)
        self._confirmed(operation, "chat")
        return operation

    async def _live_operation(self, user_id: int, operation_id: str) -> PendingOperation:
        async with self.db.read() as uow:
            found = await uow.security.operation(operation_id)
        if found is None or found.user_id != user_id or found.executed_at is not None:
            raise OperationGone()
        return found

    async def _execute(self, uow: UnitOfWork, user_id: int, operation_id: str) -> PendingOperation:
        """Run the operation in ``uow``, once: whichever way it was confirmed, the money step
        is the feature's own, keyed once (``order-pay:<id>`` and so on)."""
        operation = await uow.security.claim_operation(operation_id, user_id, self.clock.now())
        if operation is None:
            raise OperationGone()
        made = await self._executors[operation.kind](uow, operation)
        if made is not None:
            await uow.security.set_operation_result(operation.id, made)
            operation = replace(operation, result_id=made)
        return operation

    @staticmethod
    def _confirmed(operation: PendingOperation, by: str) -> None:
        log.info(
            "event=operation_confirmed user_id=%s kind=%s operation=%s by=%s",
            operation.user_id,
            operation.kind,
            operation.id,
            by,
        )

    # --- confirmed in the Mini App ----------------------------------------------------------------

    async def issue_nonce(self, user_id: int, operation_id: str) -> str:
        """A single-use proof that this user's app is confirming this live operation now."""
        operation = await self._live_operation(user_id, operation_id)
        now = self.clock.now()
        if operation.cancelled_at is not None or operation.expires_at <= now:
            raise OperationGone()
        nonce = secrets.token_urlsafe(32)
        async with self.db.unit_of_work() as uow:
            await uow.security.add_nonce(_digest(nonce), user_id, operation.id, now + NONCE_TTL)
        return nonce

    async def _use_nonce(self, user_id: int, nonce: str) -> str:
        """The operation the nonce stands for; the nonce is spent, whatever follows."""
        if not nonce or len(nonce) > 100:
            raise ConfirmationRefused()
        async with self.db.unit_of_work() as uow:
            operation_id = await uow.security.use_nonce(_digest(nonce), user_id, self.clock.now())
        if operation_id is None:
            log.warning("event=nonce_refused user_id=%s", user_id)
            raise ConfirmationRefused()
        return operation_id

    async def confirm_with_password(
        self, user_id: int, nonce: str, password: str, *, enroll_device: str | None = None
    ) -> tuple[PendingOperation, str | None]:
        """The app's nonce and the payment password (the same hash and lockout as the chat).
        With ``enroll_device``, that device gets a biometric token, returned for the app to
        keep behind the device's biometrics."""
        operation_id = await self._use_nonce(user_id, nonce)
        await self._live_operation(user_id, operation_id)
        await self.verify_password(user_id, password)
        token = secrets.token_urlsafe(32) if enroll_device else None
        async with self.db.unit_of_work() as uow:
            operation = await self._execute(uow, user_id, operation_id)
            await self._app_receipt(uow, operation)
            if enroll_device and token is not None:
                await uow.security.enroll_device(
                    user_id, enroll_device, _digest(token), self.clock.now()
                )
        self._confirmed(operation, "app_password")
        if enroll_device:
            log.info("event=biometric_device_enrolled user_id=%s", user_id)
        return operation, token

    async def confirm_with_biometrics(
        self, user_id: int, nonce: str, device_id: str, token: str
    ) -> tuple[PendingOperation, str]:
        """The app's nonce and the device's biometric token, released by Face ID or Touch ID.
        The token is replaced in the same unit of work as the operation: returns the new one."""
        operation_id = await self._use_nonce(user_id, nonce)
        await self._live_operation(user_id, operation_id)
        await self.ensure_unlocked(user_id)  # a lockout stops biometrics too
        fresh = secrets.token_urlsafe(32)
        async with self.db.unit_of_work() as uow:
            rotated = await uow.security.rotate_device_token(
                user_id, device_id, _digest(token), _digest(fresh), self.clock.now()
            )
            if not rotated:
                log.warning("event=biometric_token_refused user_id=%s", user_id)
                raise ConfirmationRefused()
            operation = await self._execute(uow, user_id, operation_id)
            await self._app_receipt(uow, operation)
        self._confirmed(operation, "app_biometrics")
        return operation, fresh

    async def _app_receipt(self, uow: UnitOfWork, operation: PendingOperation) -> None:
        """A line in the chat for a spend confirmed in the app, with the money step: the chat
        stays the record of what happened, and a spend someone else made shows there."""
        await write_notice(
            uow,
            operation.user_id,
            RECEIPT,
            "notice-app-confirmed",
            self.clock.now(),
            key=f"app-confirmed:{operation.id}",
            operation=str(operation.kind),
            ref=str(operation.payload.get("order", "")),
            amount=operation.amount if operation.amount is not None else "",
        )

    async def forget_nonces(self) -> int:
        """Delete nonces that lapsed more than NONCE_KEPT ago; returns how many."""
        async with self.db.unit_of_work() as uow:
            return await uow.security.forget_nonces(self.clock.now() - NONCE_KEPT)

    async def has_device(self, user_id: int, device_id: str) -> bool:
        async with self.db.read() as uow:
            return await uow.security.has_device(user_id, device_id)

    async def cancel_operation(self, user_id: int, operation_id: str) -> None:
        async with self.db.unit_of_work() as uow:
            if not await uow.security.cancel_operation(operation_id, user_id, self.clock.now()):
                raise OperationGone()

    # --- operators --------------------------------------------------------------------------------

    @retry_on_conflict()
    async def admin_reset(self, actor_id: int, user_id: int) -> bool:
        """Forget a user's password and answers so they set them anew; audited."""
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            cleared = await uow.security.clear(user_id)
            await uow.security.revoke_devices(user_id)
            await uow.security.audit(actor_id, user_id, "reset_password", now)
            if cleared:
                await write_notice(uow, user_id, ACCOUNT, "password-reset-notice", now)
        log.warning(
            "event=password_reset_by_operator actor_id=%s user_id=%s cleared=%s",
            actor_id,
            user_id,
            cleared,
        )
        return cleared
