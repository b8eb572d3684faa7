"""Stars reconciliation: Telegram's statement (getStarTransactions) against the ledger.

It needs the Bot, so it lives beside the poller rather than in ``bot/services/``. Differences
go to the operators' chat through the outbox, keyed by the set of differences: a set already
reported is remembered in the database and not posted again, by this process or another.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from aiogram import Bot
from aiogram.types import StarTransaction, TransactionPartnerUser

from bot.services.notices import NoticeService
from bot.services.reconciliation import Discrepancy, Reconciliation, StarMovement

# Drawn by the notices sender from the differences it carries.
REPORT = "ops-reconcile-card"

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
        reconciliation: Reconciliation,
        notices: NoticeService,
        support_chat_id: int | None,
    ) -> None:
        self.bot = bot
        self.reconciliation = reconciliation
        self.notices = notices
        self.support_chat_id = support_chat_id

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
        problems = await self.reconciliation.compare(await self.statement())
        for problem in problems:
            log.error(
                "event=stars_discrepancy kind=%s charge_id=%s user_id=%s stars=%s",
                problem.kind,
                problem.charge_id,
                problem.user_id,
                problem.stars,
            )
        if problems and self.support_chat_id is not None:
            await self.notices.tell(
                self.support_chat_id,
                REPORT,
                key=_report_key(problems, again=always_report),
                problems=[
                    [problem.kind, problem.charge_id, problem.user_id, problem.stars]
                    for problem in problems
                ],
            )
        if not problems:
            log.info("event=stars_reconciled")
        return problems


def _report_key(problems: list[Discrepancy], *, again: bool) -> str:
    """The same differences make the same key; an operator who asks again gets a fresh one."""
    listed = "\n".join(sorted(repr(problem) for problem in problems))
    if again:
        listed += "\n" + secrets.token_hex(8)
    return "reconcile:" + hashlib.sha256(listed.encode()).hexdigest()[:32]
