"""Refunding a Stars charge: Telegram gives the Stars back, then the ledger takes the money
back out of the balance. It needs the Bot, so it lives here rather than in bot/services/.

Telegram is asked only while the money is still here to take back. Its CHARGE_ALREADY_REFUNDED
counts as done, and the ledger's entry is keyed by the charge, so repeating a refund changes
nothing and says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.domain.errors import RefundRefused
from bot.domain.models import ReturnedCharge, ReturnStatus
from bot.domain.money import Money
from bot.services.certificates import STARS, CertificateService

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    REFUSED = "refused"  # the money is no longer here (spent, a gift claimed), or unknown
    TELEGRAM = "telegram"  # Telegram refused the refund
    UNREVERSED = "unreversed"  # Telegram refunded, but it was spent in between
    DONE = "done"
    ALREADY = "already"  # refunded before: nothing moved now


@dataclass(frozen=True, slots=True)
class StarsRefund:
    charge_id: str
    outcome: Outcome
    user_id: int | None = None
    amount: Money | None = None
    refused: RefundRefused | None = None
    telegram_error: str | None = None
    refunded_at: datetime | None = None


class StarsRefunds:
    def __init__(self, bot: Bot, certificates: CertificateService) -> None:
        self.bot = bot
        self.certificates = certificates

    async def refund(self, charge_id: str, *, operator_id: int) -> StarsRefund:
        try:
            purchase = await self.certificates.refundable(charge_id)
        except RefundRefused as refused:
            return StarsRefund(charge_id, Outcome.REFUSED, refused=refused)
        if purchase.status != "refunded":
            try:
                await self.bot.refund_star_payment(purchase.user_id, charge_id)
            except TelegramBadRequest as exc:
                if "CHARGE_ALREADY_REFUNDED" not in exc.message:
                    return StarsRefund(charge_id, Outcome.TELEGRAM, telegram_error=exc.message)
            log.warning(
                "event=refund_by_operator actor_id=%s user_id=%s charge_id=%s",
                operator_id,
                purchase.user_id,
                charge_id,
            )
        try:
            result = await self.certificates.reverse(charge_id, by_operator=True)
        except RefundRefused as refused:
            # Spent between the check and Telegram's answer: refunded, yet not taken back.
            return StarsRefund(charge_id, Outcome.UNREVERSED, purchase.user_id, refused=refused)
        return StarsRefund(
            charge_id,
            Outcome.DONE if result.reversed else Outcome.ALREADY,
            purchase.user_id,
            result.amount,
            refunded_at=result.purchase.refunded_at,
        )

    async def give_back(self, charge: ReturnedCharge) -> ReturnedCharge:
        """A second payment of one purchase: its Stars go back to the payer, once. Telegram's
        CHARGE_ALREADY_REFUNDED counts as done (a redelivery after a crash); a refusal is left
        to the operators. A transient fault propagates: the inbox tries the update again."""
        if charge.status == ReturnStatus.RETURNED:
            return charge
        if charge.currency != STARS:
            return await self.certificates.settle_return(
                charge.charge_id, error=f"{charge.currency} is refunded through the provider"
            )
        try:
            await self.bot.refund_star_payment(charge.user_id, charge.charge_id)
        except TelegramBadRequest as exc:
            if "CHARGE_ALREADY_REFUNDED" not in exc.message:
                return await self.certificates.settle_return(charge.charge_id, error=exc.message)
        log.warning(
            "event=duplicate_payment_returned user_id=%s charge_id=%s stars=%s",
            charge.user_id,
            charge.charge_id,
            charge.amount,
        )
        return await self.certificates.settle_return(charge.charge_id, error=None)
