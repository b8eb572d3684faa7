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
        # Only the user's own private chat hears from us; groups the bot ignores never do.
        private = row.user_id is not None and row.lane == str(row.user_id)
        try:
            if isinstance(payment, dict):
                await self._alert_operators(row, payment)
                if private and row.user_id is not None:
                    await self._tell(row.user_id, "payment-received-later", row)
            elif private and row.user_id is not None and row.kind in ("message", "callback_query"):
                # Only what is true: if the update moved money before it failed, say what.
                steps = await self.ledger.steps_of_update(row.update_id)
                if steps:
                    await self.notices.tell_steps(row.user_id, row.update_id, steps, kind=PARKED)
                else:
                    await self._tell(row.user_id, "error-internal", row)
        except StorageError as exc:
            log.warning("event=parked_notice_failed update_id=%s error=%s", row.update_id, exc)

    async def answered_by_steps(self, row: InboxRow) -> bool:
        """Before a retry: if the update's first try committed money (its answer was lost),
        tell the person what happened, once, and do not run it again in a changed state."""
        private = row.user_id is not None and row.lane == str(row.user_id)
        if not private or row.user_id is None or row.kind not in ("message", "callback_query"):
            return False
        steps = await self.ledger.steps_of_update(row.update_id)
        if not steps:
            return False
        log.warning(
            "event=retry_answered_by_steps update_id=%s user_id=%s steps=%d",
            row.update_id,
            row.user_id,
            len(steps),
        )
        await self.notices.tell_steps(row.user_id, row.update_id, steps, kind=PARKED)
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
