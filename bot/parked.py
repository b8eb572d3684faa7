"""What people hear when the inbox gives up on an update: only what is true, and money is
never left unseen (a parked payment goes to the operators' chat)."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update

from bot.i18n import I18n
from bot.storage.repositories.inbox import InboxRow

log = logging.getLogger(__name__)


class ParkedNotifier:
    def __init__(self, bot: Bot, i18n: I18n, operators_chat_id: int | None) -> None:
        self.bot = bot
        self.i18n = i18n
        self.operators_chat_id = operators_chat_id

    async def __call__(self, row: InboxRow, update: Update | None, error: BaseException) -> None:
        raw: dict[str, Any] = json.loads(row.payload)
        found = raw.get(row.kind)
        body: dict[str, Any] = found if isinstance(found, dict) else {}
        found = body.get("from")
        sender: dict[str, Any] = found if isinstance(found, dict) else {}
        t = self.i18n(self.i18n.pick(None, sender.get("language_code")))
        payment = body.get("successful_payment") if row.kind == "message" else None
        # Only the user's own private chat hears from us; groups the bot ignores never do.
        private = row.user_id is not None and row.lane == str(row.user_id)
        if isinstance(payment, dict):
            await self._alert_operators(row, payment)
            if private and row.user_id is not None:
                await self._send(row.user_id, t("payment-received-later"))
        elif private and row.user_id is not None and row.kind in ("message", "callback_query"):
            await self._send(row.user_id, t("error-internal"))

    async def _alert_operators(self, row: InboxRow, payment: dict[str, Any]) -> None:
        if self.operators_chat_id is None:
            log.critical(
                "event=parked_payment_unseen update_id=%s user_id=%s charge_id=%s",
                row.update_id,
                row.user_id,
                payment.get("telegram_payment_charge_id"),
            )
            return
        t = self.i18n(self.i18n.default)
        text = t(
            "ops-payment-parked",
            update_id=str(row.update_id),
            user_id=str(row.user_id),
            amount=f"{payment.get('total_amount')} {payment.get('currency')}",
            charge_id=str(payment.get("telegram_payment_charge_id")),
        )
        await self._send(self.operators_chat_id, text)

    async def _send(self, chat_id: int, text: str) -> None:
        try:
            await self.bot.send_message(chat_id, text)
        except TelegramAPIError as exc:
            log.warning("event=parked_notice_failed chat_id=%s error=%s", chat_id, exc)
