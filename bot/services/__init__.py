"""Business rules. No aiogram import and no database driver: plain values in, results out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.cards import CardService
from bot.services.cashback import CashbackService
from bot.services.catalog import CatalogService
from bot.services.certificates import CertificateService
from bot.services.gifts import GiftService
from bot.services.ledger import LedgerService
from bot.services.notices import NoticeService
from bot.services.orders import OrderService
from bot.services.security import SecurityService
from bot.services.support import SupportService
from bot.services.users import UserService


@dataclass(frozen=True, slots=True)
class Services:
    """Every service of one application, built once in ``bot/app.py`` and injected into
    handlers as ``services``; a new feature adds a field here, not a keyword everywhere."""

    users: UserService
    ledger: LedgerService
    security: SecurityService
    cards: CardService
    support: SupportService
    certificates: CertificateService
    gifts: GiftService
    orders: OrderService
    catalog: CatalogService
    cashback: CashbackService
    notices: NoticeService
