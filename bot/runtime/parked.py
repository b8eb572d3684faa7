"""What people hear when the inbox gives up on an update: only what is true, and money is
never left unseen (a parked payment goes to the operators' chat).

Both go through the outbox, keyed by the update, so a row parked again after a retry tells
nobody twice, and an outage of Telegram delays the notice instead of losing it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiogram.types import Update

from bot.services.ledger import LedgerService
from bot.services.notices import NoticeService
from bot.storage.errors import StorageError
from bot.storage.repositories.inbox import InboxRow

log = logging.getLogger(__name__)

PARKED = "parked"  # the notice kind: what a person hears about their parked update


class ParkedNotifier:
    def __init__(
        self, notices: NoticeService, ledger: LedgerService, operators_chat_id: int | None
    ) -> None:
        self.notices = notices
        self.ledger = ledger
        self.operators_chat_id = operators_chat_id

    async def __call__(self, row: InboxRow, update: Update | None, error: BaseException) -> None:
        raw: dict[str, Any] = json.loads(row.payload)
        found = raw.get(row.kind)
        body: dict[str, Any] = found if isinstance(found, dict) else {}
        payment = body.get("successful_payment") if row.kind == "message" else None
        try:
            if isinstance(payment, dict):
                await self._alert_operators(row, payment)
                if (user_id := _private(row)) is not None:
                    await self._tell(user_id, "payment-received-later", row)
            # Only what is true: an update that moved money before it failed says what it did.
            elif not await self.answered_by_steps(row) and (user_id := _said_privately(row)):
                await self._tell(user_id, "error-internal", row)
        except StorageError as exc:
            log.warning("event=parked_notice_failed update_id=%s error=%s", row.update_id, exc)

    async def answered_by_steps(self, row: InboxRow) -> bool:
        """If the update's first try committed money (its answer was lost), tell the person
        what happened, once: before a retry (which would run in a changed state) and when it
        is parked."""
        user_id = _said_privately(row)
        if user_id is None:
            return False
        steps = await self.ledger.steps_of_update(row.update_id)
        if not steps:
            return False
        log.warning(
            "event=answered_by_steps update_id=%s user_id=%s steps=%d",
            row.update_id,
            user_id,
            len(steps),
        )
        await self.notices.tell_steps(user_id, row.update_id, steps, kind=PARKED)
        return True

    async def _tell(self, chat_id: int, template: str, row: InboxRow) -> None:
        await self.notices.tell(chat_id, template, key=f"parked:{row.update_id}", kind=PARKED)

    async def _alert_operators(self, row: InboxRow, payment: dict[str, Any]) -> None:
        if self.operators_chat_id is None:
            log.critical(
                "event=parked_payment_unseen update_id=%s user_id=%s charge_id=%s",
                row.update_id,
                row.user_id,
                payment.get("telegram_payment_charge_id"),
            )
            return
        await self.notices.tell(
            self.operators_chat_id,
            "ops-payment-parked",
            key=f"parked-payment:{row.update_id}",
            update_id=str(row.update_id),
            user_id=str(row.user_id),
            amount=f"{payment.get('total_amount')} {payment.get('currency')}",
            charge_id=str(payment.get("telegram_payment_charge_id")),
        )


def _private(row: InboxRow) -> int | None:
    """The sender, if the row came from their own private chat: groups the bot ignores never
    hear from us."""
    return row.user_id if row.user_id is not None and row.lane == str(row.user_id) else None


def _said_privately(row: InboxRow) -> int | None:
    """The sender of a private message or button press: someone who waits for an answer."""
    return _private(row) if row.kind in ("message", "callback_query") else None
