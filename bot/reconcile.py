"""Stars reconciliation: Telegram's statement (getStarTransactions) against the ledger.

It needs the Bot, so it lives beside the poller rather than in ``bot/services/``. Differences
go to the operators' chat; the same set is not posted again until it changes.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.types import StarTransaction, TransactionPartnerUser

from bot.i18n import I18n
from bot.services.certificates import (
    CertificateService,
    Discrepancy,
    StarMovement,
    reconcile,
)

log = logging.getLogger(__name__)

PAGE = 100


def _movement(transaction: StarTransaction) -> StarMovement | None:
    source, receiver = transaction.source, transaction.receiver
    if isinstance(source, TransactionPartnerUser):
        return StarMovement(transaction.id, False, transaction.amount, source.user.id)
    if isinstance(receiver, TransactionPartnerUser):
        return StarMovement(transaction.id, True, transaction.amount, receiver.user.id)
    return None  # withdrawals to Fragment, ads and the like: not the shop's sales


class StarsReconciler:
    def __init__(
        self,
        bot: Bot,
        certificates: CertificateService,
        i18n: I18n,
        support_chat_id: int | None,
    ) -> None:
        self.bot = bot
        self.certificates = certificates
        self.i18n = i18n
        self.support_chat_id = support_chat_id
        self._reported: frozenset[Discrepancy] = frozenset()

    async def statement(self) -> list[StarMovement]:
        movements: list[StarMovement] = []
        offset = 0
        while True:
            page = await self.bot.get_star_transactions(offset=offset, limit=PAGE)
            for transaction in page.transactions:
                movement = _movement(transaction)
                if movement is not None:
                    movements.append(movement)
            if len(page.transactions) < PAGE:
                return movements
            offset += PAGE

    async def run(self, *, always_report: bool = False) -> list[Discrepancy]:
        """Compare; post the differences to the operators unless they were posted already."""
        problems = await reconcile(self.certificates, await self.statement())
        for problem in problems:
            log.error(
                "event=stars_discrepancy kind=%s charge_id=%s user_id=%s stars=%s",
                problem.kind,
                problem.charge_id,
                problem.user_id,
                problem.stars,
            )
        current = frozenset(problems)
        if (
            problems
            and self.support_chat_id is not None
            and (always_report or current != self._reported)
        ):
            ops = self.i18n(self.i18n.default)
            lines = [
                ops(
                    f"ops-discrepancy-{problem.kind.replace('_', '-')}",
                    charge_id=problem.charge_id,
                    user_id=str(problem.user_id),
                    stars=problem.stars,
                )
                for problem in problems
            ]
            await self.bot.send_message(
                self.support_chat_id, ops("ops-reconcile-report", lines="\n".join(lines))
            )
        self._reported = current
        if not problems:
            log.info("event=stars_reconciled")
        return problems
