"""Payment passwords, security answers, the lockout, pending operations and the audit."""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.models import PendingOperation, SecretRecord
from bot.domain.money import Money
from bot.storage.session import Row, Session


def _secret(row: Row) -> SecretRecord:
    return SecretRecord(
        user_id=row["user_id"],
        password_hash=row["password_hash"],
        questions=tuple(json.loads(row["questions"])),
        answer_hashes=tuple(json.loads(row["answer_hashes"])),
        failures=row["failures"],
        window_started=row["window_started"],
        locked_until=row["locked_until"],
        locks=row["locks"],
    )


def _operation(row: Row, currency: str) -> PendingOperation:
    return PendingOperation(
        id=row["id"],
        user_id=row["user_id"],
        kind=row["kind"],
        amount=None if row["amount"] is None else Money(row["amount"], currency),
        payload=json.loads(row["payload"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        executed_at=row["executed_at"],
        cancelled_at=row["cancelled_at"],
        key=row["idempotency_key"],
        result_id=row["result_id"],
    )


_SECRET_COLUMNS = (
    "user_id, password_hash, questions, answer_hashes, failures, window_started, locked_until,"
    " locks"
)
_OPERATION_COLUMNS = (
    "id, user_id, kind, amount, payload, created_at, expires_at, executed_at, cancelled_at,"
    " idempotency_key, result_id"
)


class SecurityRepository:
    def __init__(self, session: Session, currency: str) -> None:
        self.session = session
        self.currency = currency  # the ledger\'s: amounts are read into Money of it

    async def get(self, user_id: int) -> SecretRecord | None:
        row = await self.session.fetchrow(
            f"SELECT {_SECRET_COLUMNS} FROM security WHERE user_id = $1", user_id
        )
        return _secret(row) if row else None

    async def set_secrets(
        self,
        user_id: int,
        password_hash: str,
        questions: tuple[str, ...],
        answer_hashes: tuple[str, ...],
        now: datetime,
    ) -> None:
        """A new password and answers; the lockout state starts afresh."""
        await self.session.execute(
            "INSERT INTO security (user_id, password_hash, questions, answer_hashes, failures,"
            " window_started, locked_until, locks, updated_at)"
            " VALUES ($1, $2, $3, $4, 0, NULL, NULL, 0, $5)"
            " ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash,"
            " questions = excluded.questions, answer_hashes = excluded.answer_hashes,"
            " failures = 0, window_started = NULL, locked_until = NULL, locks = 0,"
            " updated_at = excluded.updated_at",
            user_id,
            password_hash,
            json.dumps(list(questions)),
            json.dumps(list(answer_hashes)),
            now,
        )

    async def set_password_hash(self, user_id: int, password_hash: str, now: datetime) -> None:
        """A new password (changed, recovered, or the same one rehashed with new parameters)."""
        await self.session.execute(
            "UPDATE security SET password_hash = $1, updated_at = $2 WHERE user_id = $3",
            password_hash,
            now,
            user_id,
        )

    async def save_lockout(
        self,
        user_id: int,
        failures: int,
        window_started: datetime | None,
        locked_until: datetime | None,
        locks: int,
        now: datetime,
    ) -> None:
        await self.session.execute(
            "UPDATE security SET failures = $1, window_started = $2, locked_until = $3,"
            " locks = $4, updated_at = $5 WHERE user_id = $6",
            failures,
            window_started,
            locked_until,
            locks,
            now,
            user_id,
        )

    async def count_failure(
        self, user_id: int, now: datetime, window_opened_after: datetime
    ) -> tuple[int, int] | None:
        """Add one failure in a single conditional update (the row lock orders concurrent
        ones); a window older than ``window_opened_after`` starts again at 1.
        Returns (failures in the window, lockouts so far), or None without a record."""
        row = await self.session.fetchrow(
            "UPDATE security SET"
            " failures = CASE WHEN window_started IS NULL OR window_started < $2"
            " THEN 1 ELSE failures + 1 END,"
            " window_started = CASE WHEN window_started IS NULL OR window_started < $2"
            " THEN $1 ELSE window_started END,"
            " updated_at = $1"
            " WHERE user_id = $3 RETURNING failures, locks",
            now,
            window_opened_after,
            user_id,
        )
        return (int(row[0]), int(row[1])) if row else None

    async def clear(self, user_id: int) -> bool:
        """Forget the password and answers (an operator's reset). False if there were none."""
        rows = await self.session.fetch(
            "DELETE FROM security WHERE user_id = $1 RETURNING user_id", user_id
        )
        return bool(rows)

    async def audit(self, actor_id: int, user_id: int, action: str, now: datetime) -> None:
        await self.session.execute(
            "INSERT INTO security_audit (actor_id, user_id, action, created_at)"
            " VALUES ($1, $2, $3, $4)",
            actor_id,
            user_id,
            action,
            now,
        )

    async def audit_log(self, user_id: int) -> list[tuple[int, str, datetime]]:
        rows = await self.session.fetch(
            "SELECT actor_id, action, created_at FROM security_audit WHERE user_id = $1"
            " ORDER BY id",
            user_id,
        )
        return [(row[0], row[1], row[2]) for row in rows]

    # --- pending operations ---------------------------------------------------------------------

    async def add_operation(self, operation: PendingOperation) -> bool:
        """False when an operation with its key exists already (see :meth:`operation_by_key`)."""
        row = await self.session.fetchrow(
            "INSERT INTO pending_operations (id, user_id, kind, amount, payload, created_at,"
            " expires_at, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            operation.id,
            operation.user_id,
            operation.kind,
            None if operation.amount is None else operation.amount.minor,
            json.dumps(operation.payload, ensure_ascii=False),
            operation.created_at,
            operation.expires_at,
            operation.key,
        )
        return row is not None

    async def operation_by_key(self, key: str) -> PendingOperation | None:
        row = await self.session.fetchrow(
            f"SELECT {_OPERATION_COLUMNS} FROM pending_operations WHERE idempotency_key = $1", key
        )
        return _operation(row, self.currency) if row else None

    async def set_operation_result(self, operation_id: str, result_id: int) -> None:
        await self.session.execute(
            "UPDATE pending_operations SET result_id = $1 WHERE id = $2", result_id, operation_id
        )

    async def operation(self, operation_id: str) -> PendingOperation | None:
        row = await self.session.fetchrow(
            f"SELECT {_OPERATION_COLUMNS} FROM pending_operations WHERE id = $1", operation_id
        )
        return _operation(row, self.currency) if row else None

    async def claim_operation(
        self, operation_id: str, user_id: int, now: datetime
    ) -> PendingOperation | None:
        """Mark the user's live operation executed; None if it is not theirs, gone or done."""
        row = await self.session.fetchrow(
            "UPDATE pending_operations SET executed_at = $1"
            " WHERE id = $2 AND user_id = $3 AND executed_at IS NULL"
            " AND cancelled_at IS NULL AND expires_at > $1"
            f" RETURNING {_OPERATION_COLUMNS}",
            now,
            operation_id,
            user_id,
        )
        return _operation(row, self.currency) if row else None

    async def cancel_operation(self, operation_id: str, user_id: int, now: datetime) -> bool:
        rows = await self.session.fetch(
            "UPDATE pending_operations SET cancelled_at = $1"
            " WHERE id = $2 AND user_id = $3 AND executed_at IS NULL AND cancelled_at IS NULL"
            " RETURNING id",
            now,
            operation_id,
            user_id,
        )
        return bool(rows)

    # --- the Mini App's confirmations -----------------------------------------------------------

    async def add_nonce(
        self, nonce_hash: str, user_id: int, operation_id: str, expires_at: datetime
    ) -> None:
        await self.session.execute(
            "INSERT INTO app_nonces (nonce_hash, user_id, operation_id, expires_at)"
            " VALUES ($1, $2, $3, $4)",
            nonce_hash,
            user_id,
            operation_id,
            expires_at,
        )

    async def use_nonce(self, nonce_hash: str, user_id: int, now: datetime) -> str | None:
        """The operation a live, unused nonce of this user stands for; it is used up at once."""
        return await self.session.fetchval(  # type: ignore[no-any-return]
            "UPDATE app_nonces SET used_at = $3"
            " WHERE nonce_hash = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3"
            " RETURNING operation_id",
            nonce_hash,
            user_id,
            now,
        )

    async def forget_nonces(self, before: datetime) -> int:
        rows = await self.session.fetch(
            "DELETE FROM app_nonces WHERE expires_at < $1 RETURNING nonce_hash", before
        )
        return len(rows)

    async def enroll_device(
        self, user_id: int, device_id: str, token_hash: str, now: datetime
    ) -> None:
        """The device's token from now on (a device enrolled again gets a new one)."""
        await self.session.execute(
            "INSERT INTO biometric_devices (user_id, device_id, token_hash, created_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, device_id) DO UPDATE"
            " SET token_hash = excluded.token_hash, created_at = excluded.created_at,"
            " used_at = NULL",
            user_id,
            device_id,
            token_hash,
            now,
        )

    async def rotate_device_token(
        self, user_id: int, device_id: str, token_hash: str, new_hash: str, now: datetime
    ) -> bool:
        """Swap the device's token for a new one, if ``token_hash`` is its current one."""
        rows = await self.session.fetch(
            "UPDATE biometric_devices SET token_hash = $4, used_at = $5"
            " WHERE user_id = $1 AND device_id = $2 AND token_hash = $3 RETURNING device_id",
            user_id,
            device_id,
            token_hash,
            new_hash,
            now,
        )
        return bool(rows)

    async def has_device(self, user_id: int, device_id: str) -> bool:
        row = await self.session.fetchrow(
            "SELECT 1 FROM biometric_devices WHERE user_id = $1 AND device_id = $2",
            user_id,
            device_id,
        )
        return row is not None

    async def revoke_devices(self, user_id: int) -> int:
        rows = await self.session.fetch(
            "DELETE FROM biometric_devices WHERE user_id = $1 RETURNING device_id", user_id
        )
        return len(rows)
