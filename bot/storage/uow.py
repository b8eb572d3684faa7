"""The unit of work: one transaction, and every repository bound to it."""

from __future__ import annotations

from functools import cached_property

from bot.storage.repositories.cards import CardRepository
from bot.storage.repositories.cashback import CashbackRepository
from bot.storage.repositories.certificates import CertificateRepository
from bot.storage.repositories.fsm import FSMRepository
from bot.storage.repositories.inbox import InboxRepository
from bot.storage.repositories.leases import LeaseRepository
from bot.storage.repositories.ledger import LedgerRepository
from bot.storage.repositories.orders import OrderRepository
from bot.storage.repositories.outbox import OutboxRepository
from bot.storage.repositories.security import SecurityRepository
from bot.storage.repositories.support import SupportRepository
from bot.storage.repositories.users import UserRepository
from bot.storage.session import Session


class UnitOfWork:
    """Repositories share the session, so whatever they write commits or rolls back together.

    Built by :meth:`Database.unit_of_work` (a transaction) or :meth:`Database.read` (plain reads).
    Repositories are made on first use: most operations touch one or two of them.
    """

    def __init__(self, session: Session, currency: str) -> None:
        self.session = session
        self.currency = currency
        self.queued_notices = False

    def _queued_notice(self) -> None:
        self.queued_notices = True

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.session)

    @cached_property
    def ledger(self) -> LedgerRepository:
        return LedgerRepository(self.session)

    @cached_property
    def fsm(self) -> FSMRepository:
        return FSMRepository(self.session)

    @cached_property
    def inbox(self) -> InboxRepository:
        return InboxRepository(self.session)

    @cached_property
    def leases(self) -> LeaseRepository:
        return LeaseRepository(self.session)

    @cached_property
    def security(self) -> SecurityRepository:
        return SecurityRepository(self.session, self.currency)

    @cached_property
    def cards(self) -> CardRepository:
        return CardRepository(self.session)

    @cached_property
    def support(self) -> SupportRepository:
        return SupportRepository(self.session)

    @cached_property
    def certificates(self) -> CertificateRepository:
        return CertificateRepository(self.session, self.currency)

    @cached_property
    def orders(self) -> OrderRepository:
        return OrderRepository(self.session, self.currency)

    @cached_property
    def cashback(self) -> CashbackRepository:
        return CashbackRepository(self.session, self.currency)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session, on_queued=self._queued_notice)
