"""Stars reconciliation: Telegram's statement (getStarTransactions) and balance
(getMyStarBalance) against the ledger.

It needs the Bot, so it lives beside the poller rather than in ``bot/services/``. Differences
go to the operators' chat through the outbox, keyed by the set of differences: a set already
reported is remembered in the database and not posted again, by this process or another.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from aiogram import Bot
from aiogram.types import AffiliateInfo, StarAmount, StarTransaction, TransactionPartnerUser

from bot.services.notices import NoticeService
from bot.services.reconciliation import (
    NANOS,
    Discrepancy,
    Reconciliation,
    StarMovement,
    StarsReport,
    StarsStatement,
    StarTransfer,
)

# Drawn by the notices sender from the differences it carries.
REPORT = "ops-reconcile-card"

log = logging.getLogger(__name__)

PAGE = 100
# The balance is read before and after the statement; a payment in between moves it, and the
# reading is tried again, this many times in all, before the balance is left out of the check.
BALANCE_READS = 3
# A buyer's lines: what the shop sold. A user's other lines (gifts, Premium, business transfers)
# are the bot's own spending and go with the transfers.
SALES = {None, "invoice_payment", "paid_media_payment"}


def _nanos(amount: StarTransaction | StarAmount | AffiliateInfo) -> int:
    return amount.amount * NANOS + (amount.nanostar_amount or 0)


def _line(transaction: StarTransaction) -> StarMovement | StarTransfer:
    nanos = _nanos(transaction)
    source, receiver = transaction.source, transaction.receiver
    partner = source if source is not None else receiver
    if isinstance(partner, TransactionPartnerUser) and partner.transaction_type in SALES:
        commission = 0 if partner.affiliate is None else _nanos(partner.affiliate)
        return StarMovement(transaction.id, source is None, partner.user.id, nanos, commission)
    kind = "other" if partner is None else partner.type
    if isinstance(partner, TransactionPartnerUser):
        kind = f"user_{partner.transaction_type}"
    return StarTransfer(kind, nanos if source is not None else -nanos)


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

    async def statement(self) -> StarsStatement:
        """Every line of Telegram's statement, and its balance if it held still meanwhile."""
        balance: int | None = None
        for _ in range(BALANCE_READS):
            before = _nanos(await self.bot.get_my_star_balance())
            lines = await self._lines()
            after = _nanos(await self.bot.get_my_star_balance())
            if before == after:
                balance = after
                break
        else:
            log.warning("event=stars_balance_moving reads=%s", BALANCE_READS)
        return StarsStatement(
            movements=[line for line in lines if isinstance(line, StarMovement)],
            transfers=[line for line in lines if isinstance(line, StarTransfer)],
            balance=balance,
        )

    async def _lines(self) -> list[StarMovement | StarTransfer]:
        lines: list[StarMovement | StarTransfer] = []
        offset = 0
        while True:
            page = await self.bot.get_star_transactions(offset=offset, limit=PAGE)
            lines.extend(_line(transaction) for transaction in page.transactions)
            if len(page.transactions) < PAGE:
                return lines
            offset += PAGE

    async def run(self, *, always_report: bool = False) -> StarsReport:
        """Compare; post the differences to the operators unless they were posted already."""
        report = await self.reconciliation.compare(await self.statement())
        problems, books = report.problems, report.books
        for problem in problems:
            log.error(
                "event=stars_discrepancy kind=%s charge_id=%s user_id=%s nanostars=%s",
                problem.kind,
                problem.charge_id,
                problem.user_id,
                problem.nanos,
            )
        log.info(
            "event=stars_books collected=%s refunded=%s commissions=%s transfers=%s"
            " expected=%s balance=%s",
            books.collected,
            books.refunded,
            books.commissions,
            sum(books.transfers.values()),
            books.expected,
            books.balance,
        )
        if problems and self.support_chat_id is not None:
            await self.notices.tell(
                self.support_chat_id,
                REPORT,
                key=_report_key(problems, again=always_report),
                differences=[
                    [problem.kind, problem.charge_id, problem.user_id, problem.nanos]
                    for problem in problems
                ],
            )
        if not problems:
            log.info("event=stars_reconciled")
        return report


def _report_key(problems: list[Discrepancy], *, again: bool) -> str:
    """The same differences make the same key; an operator who asks again gets a fresh one."""
    listed = "\n".join(sorted(repr(problem) for problem in problems))
    if again:
        listed += "\n" + secrets.token_hex(8)
    return "reconcile:" + hashlib.sha256(listed.encode()).hexdigest()[:32]
