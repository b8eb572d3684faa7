"""Gift codes: money held in ``gift_escrow`` until someone claims it, or it comes back.

A code is bought as a gift (the purchase credits escrow, see ``certificates``) or given from
the giver's own balance with the payment password. Claiming moves the money into the
claimer's balance exactly once; an unclaimed code returns to the giver after GIFT_TTL.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.domain.errors import (
    GiftCodeInvalid,
    GiftCodeLocked,
    GiftNoteInvalid,
    GiftOwnCode,
    GiftUnavailable,
    InsufficientFunds,
)
from bot.domain.models import Gift, GiftStatus, OperationKind, PendingOperation
from bot.domain.money import Money
from bot.services.certificates import CertificateService, new_gift_code
from bot.services.ledger import GIFT_ESCROW, Account
from bot.services.notices import GIFT_EXPIRED, write_notice
from bot.services.security import SecurityService
from bot.storage.database import Database, retry_on_conflict
from bot.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

NOTE_MAX = 200
CODE_FAILURES_MAX = 10
CODE_FAILURE_WINDOW = timedelta(hours=1)
FROM_BALANCE = OperationKind.GIFT_FROM_BALANCE
_CODE_RE = re.compile(r"^[a-z2-7]{16}$")
_EXPIRE_BATCH = 100


@dataclass(frozen=True, slots=True)
class Claimed:
    gift: Gift
    amount: Money
    balance: Money


class GiftService:
    def __init__(
        self,
        db: Database,
        certificates: CertificateService,
        security: SecurityService,
        clock: Clock,
    ) -> None:
        self.db = db
        self.certificates = certificates
        self.ledger = certificates.ledger
        self.clock = clock
        self.ttl = certificates.policy.gift_ttl
        security.register(FROM_BALANCE, self._give_from_balance)
        self.security = security

    @staticmethod
    def clean_note(text: str) -> str:
        note = " ".join(text.split())
        if not note:
            raise GiftNoteInvalid("empty")
        if len(note) > NOTE_MAX:
            raise GiftNoteInvalid("too_long", max=NOTE_MAX, length=len(note))
        return note

    # --- giving from the balance ----------------------------------------------------------------

    async def check_can_give(self, user_id: int, amount: Money) -> None:
        self.certificates.check_amount(amount)
        balances = await self.ledger.balances(user_id)
        if balances.balance < amount:
            raise InsufficientFunds(needed=amount, available=balances.balance)

    async def prepare_from_balance(
        self, user_id: int, amount: Money, note: str | None
    ) -> PendingOperation:
        """A pending operation the payment password confirms; nothing moves before that."""
        await self.check_can_give(user_id, amount)
        # Keyed by what is given: a double tap confirms one gift; another amount or note is
        # another operation.
        noted = hashlib.sha256((note or "").encode()).hexdigest()[:12]
        return await self.security.create_operation(
            user_id,
            FROM_BALANCE,
            key=f"gift-from-balance:{user_id}:{amount.minor}:{noted}",
            amount=amount,
            payload={"note": note},
        )

    async def _give_from_balance(self, uow: UnitOfWork, operation: PendingOperation) -> int:
        assert operation.amount is not None
        amount = operation.amount
        await self.certificates.spend(
            uow,
            operation.user_id,
            amount,
            key=f"gift-from-balance:{operation.id}",
            kind="gift_from_balance",
            to=GIFT_ESCROW,
        )
        note = operation.payload.get("note")
        now = self.clock.now()
        gift = await uow.certificates.add_gift(
            code=new_gift_code(),
            giver_id=operation.user_id,
            amount=amount,
            note=note if isinstance(note, str) else None,
            purchase_id=None,
            now=now,
            expires_at=now + self.ttl,
        )
        log.info(
            "event=gift_from_balance user_id=%s gift=%s amount=%s",
            operation.user_id,
            gift.id,
            amount.minor,
        )
        return gift.id

    async def made_by(self, operation: PendingOperation) -> Gift:
        """The gift a confirmed gift-from-balance operation made."""
        assert operation.result_id is not None, "confirmed operations carry what they made"
        async with self.db.read() as uow:
            gift = await uow.certificates.gift_by_id(operation.result_id)
        assert gift is not None
        return gift

    async def latest_of(self, user_id: int) -> Gift | None:
        async with self.db.read() as uow:
            gifts = await uow.certificates.gifts_of(user_id, 1)
        return gifts[0] if gifts else None

    async def recent(self, limit: int = 10) -> list[Gift]:
        """The newest gift codes of everyone: the operator's (and the playground's) view."""
        async with self.db.read() as uow:
            return await uow.certificates.recent_gifts(limit)

    async def of_purchase(self, purchase_id: int) -> Gift | None:
        async with self.db.read() as uow:
            return await uow.certificates.gift_of_purchase(purchase_id)

    async def shareable(self, user_id: int, code: str) -> Gift | None:
        """The giver's own open gift, for the inline card; None for anyone else's code."""
        if not _CODE_RE.match(code):
            return None
        async with self.db.read() as uow:
            gift = await uow.certificates.gift(code)
        if gift is None or gift.giver_id != user_id or gift.status != "open":
            return None
        return gift

    # --- claiming -------------------------------------------------------------------------------

    async def claim(self, user_id: int, code: str) -> Claimed:
        """Move an open gift into the claimer's balance, once; wrong codes count toward a lock."""
        now = self.clock.now()
        await self._ensure_not_locked(user_id, now)
        gift = None
        if _CODE_RE.match(code):
            async with self.db.read() as uow:
                gift = await uow.certificates.gift(code)
        if gift is None:
            left = await self._count_failure(user_id, now)
            if left <= 0:
                raise GiftCodeLocked(until=now + CODE_FAILURE_WINDOW, left=CODE_FAILURE_WINDOW)
            raise GiftCodeInvalid(attempts_left=left)
        if gift.giver_id == user_id:
            await self._refuse_own(gift)
        return await self._claim(user_id, gift.id)

    async def _refuse_own(self, gift: Gift) -> None:
        """The giver opened their own link: still open, it is theirs to send; otherwise they
        hear what became of it (claimed by whom and when, or back on their balance)."""
        if gift.status == GiftStatus.CLAIMED and gift.claimer_id is not None:
            async with self.db.read() as uow:
                claimer = await uow.users.get(gift.claimer_id)
            raise GiftUnavailable(
                "own_claimed",
                name=claimer.first_name if claimer else str(gift.claimer_id),
                date=gift.closed_at or gift.created_at,
            )
        if gift.status == GiftStatus.EXPIRED:
            raise GiftUnavailable("own_expired", date=gift.closed_at or gift.expires_at)
        if gift.status != GiftStatus.OPEN:
            raise GiftUnavailable(gift.status)
        raise GiftOwnCode()

    @retry_on_conflict()
    async def _claim(self, user_id: int, gift_id: int) -> Claimed:
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            gift = await uow.certificates.gift_by_id(gift_id)
            assert gift is not None
            if gift.status != "open":
                raise GiftUnavailable("claimed" if gift.status == "claimed" else gift.status)
            amount = gift.amount
            balance = await self.certificates.check_cap(uow, user_id, amount)
            # Of two claimers, the second finds the row closed (it waits for the first's lock
            # on PostgreSQL; SQLite has one writer) and is refused.
            if not await uow.certificates.close_gift(gift.id, "claimed", now, claimer_id=user_id):
                raise GiftUnavailable("claimed")
            await self.ledger.transfer(
                uow,
                f"gift-claim:{gift.id}",
                "gift_claim",
                GIFT_ESCROW,
                Account.balance(user_id),
                amount,
                user_id=user_id,
            )
            await uow.certificates.add_certificate(
                user_id, gift.amount, "gift", now, gift_id=gift.id
            )
        log.info("event=gift_claimed user_id=%s gift=%s giver=%s", user_id, gift.id, gift.giver_id)
        return Claimed(gift, amount, balance + amount)

    async def _ensure_not_locked(self, user_id: int, now: datetime) -> None:
        async with self.db.read() as uow:
            record = await uow.certificates.code_failures(user_id)
        if record is not None and record[2] is not None and record[2] > now:
            raise GiftCodeLocked(until=record[2], left=record[2] - now)

    @retry_on_conflict()
    async def _count_failure(self, user_id: int, now: datetime) -> int:
        """Attempts left in this hour's window after one more wrong code."""
        async with self.db.unit_of_work() as uow:
            record = await uow.certificates.code_failures(user_id)
            if record is None or now - record[1] >= CODE_FAILURE_WINDOW:
                failures, started = 1, now
            else:
                failures, started = record[0] + 1, record[1]
            locked = started + CODE_FAILURE_WINDOW if failures >= CODE_FAILURES_MAX else None
            await uow.certificates.save_code_failures(user_id, failures, started, locked)
        if locked is not None:
            log.warning("event=gift_codes_locked user_id=%s", user_id)
        return CODE_FAILURES_MAX - failures

    # --- expiry -------------------------------------------------------------------------------

    async def expire_due(self) -> list[Gift]:
        """Return every gift past GIFT_TTL to its giver's balance; safe to run twice or late."""
        now = self.clock.now()
        async with self.db.read() as uow:
            due = await uow.certificates.due_gifts(now, _EXPIRE_BATCH)
        returned = []
        for gift in due:
            if await self._expire(gift.id):
                returned.append(gift)
        return returned

    @retry_on_conflict()
    async def _expire(self, gift_id: int) -> bool:
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            gift = await uow.certificates.gift_by_id(gift_id)
            if gift is None or not await uow.certificates.close_gift(gift_id, "expired", now):
                return False  # claimed or returned meanwhile
            await self.ledger.transfer(
                uow,
                f"gift-expire:{gift.id}",
                "gift_returned",
                GIFT_ESCROW,
                Account.balance(gift.giver_id),
                gift.amount,
                user_id=gift.giver_id,
            )
            await uow.certificates.add_certificate(
                gift.giver_id, gift.amount, "refund", now, gift_id=gift.id
            )
            await write_notice(
                uow,
                gift.giver_id,
                GIFT_EXPIRED,
                "notice-gift-expired",
                now,
                amount=gift.amount,
                balance=(await self.ledger.held(uow, gift.giver_id)).balance,
            )
        log.info("event=gift_expired gift=%s giver=%s", gift.id, gift.giver_id)
        return True
