"""Saved bank cards: checked (Luhn, brand, expiry), stored masked, at most a few per user.

The full number lives only in the message the user typed (deleted at once) and in this
module's locals while it is checked; what is kept is the brand, the first 6 and last 4 digits
and the expiry. No CVV is ever asked for or accepted.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import Clock
from bot.domain.errors import CardDuplicate, CardInvalid, CardLimit, StaleButton
from bot.domain.models import SavedCard
from bot.storage.database import Database, retry_on_conflict

log = logging.getLogger(__name__)

MAX_CARDS = 5
_SEPARATORS = re.compile(r"[\s-]+")
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})\s*$")


@dataclass(frozen=True, slots=True)
class CardNumber:
    """What is kept of a checked number."""

    brand: str
    first6: str
    last4: str


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> str | None:
    """The payment system from the number's first digits (its IIN)."""
    two, four = int(digits[:2]), int(digits[:4])
    if 2200 <= four <= 2204:
        return "Mir"
    if digits[0] == "4":
        return "Visa"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "Mastercard"
    if two in (34, 37):
        return "Amex"
    if two == 62:
        return "UnionPay"
    return None


def check_number(text: str) -> CardNumber:
    digits = _SEPARATORS.sub("", text)
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise CardInvalid("format")
    if not luhn_valid(digits):
        raise CardInvalid("checksum")
    brand = brand_of(digits)
    if brand is None:
        raise CardInvalid("brand")
    return CardNumber(brand, digits[:6], digits[-4:])


def check_expiry(text: str, now: datetime) -> tuple[int, int]:
    """``MM/YY`` (or MM/YYYY) → (month, four-digit year); a card past its month is refused."""
    match = _EXPIRY.match(text)
    if match is None:
        raise CardInvalid("expiry_format")
    month, year = int(match.group(1)), int(match.group(2))
    year = year + 2000 if year < 100 else year
    if not 1 <= month <= 12:
        raise CardInvalid("expiry_format")
    if (year, month) < (now.year, now.month):
        raise CardInvalid("expired")
    if year > now.year + 20:
        raise CardInvalid("expiry_format")
    return month, year


class CardService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def cards(self, user_id: int) -> list[SavedCard]:
        async with self.db.read() as uow:
            return await uow.cards.of_user(user_id)

    async def ensure_room(self, user_id: int) -> None:
        """Refuse before the user types a number that could not be saved anyway."""
        if len(await self.cards(user_id)) >= MAX_CARDS:
            raise CardLimit(limit=MAX_CARDS)

    @retry_on_conflict()
    async def add(self, user_id: int, number: CardNumber, expiry_text: str) -> SavedCard:
        month, year = check_expiry(expiry_text, self.clock.now())
        async with self.db.unit_of_work() as uow:
            if len(await uow.cards.of_user(user_id)) >= MAX_CARDS:
                raise CardLimit(limit=MAX_CARDS)
            card = await uow.cards.add(
                user_id, number.brand, number.first6, number.last4, month, year, self.clock.now()
            )
        if card is None:
            raise CardDuplicate()
        log.info("event=card_added user_id=%s card_id=%s brand=%s", user_id, card.id, card.brand)
        return card

    async def card(self, user_id: int, card_id: int) -> SavedCard:
        async with self.db.read() as uow:
            card = await uow.cards.get(user_id, card_id)
        if card is None:
            raise StaleButton()
        return card

    @retry_on_conflict()
    async def delete(self, user_id: int, card_id: int) -> None:
        async with self.db.unit_of_work() as uow:
            if not await uow.cards.delete(user_id, card_id):
                raise StaleButton()
        log.info("event=card_deleted user_id=%s card_id=%s", user_id, card_id)
