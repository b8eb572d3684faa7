"""Card checks and the saved-cards rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.domain.errors import CardDuplicate, CardInvalid, CardLimit, StaleButton
from bot.services.cards import CardService, brand_of, check_expiry, check_number, luhn_valid
from tests.unit.ledger_support import LedgerWorld

ANN, BOB = 11, 22
NOW = datetime(2026, 12, 1, tzinfo=UTC)
# Test numbers that pass Luhn, one per brand.
NUMBERS = {
    "Visa": "4111 1111 1111 1111",
    "Mastercard": "5555-5555-5555-4444",
    "Mir": "2200 7000 0000 0009",
    "UnionPay": "6200 0000 0000 0005",
    "Amex": "3782 822463 10005",
}


@pytest.mark.parametrize(("brand", "number"), list(NUMBERS.items()))
def test_brands_from_the_iin(brand: str, number: str) -> None:
    card = check_number(number)
    assert card.brand == brand
    assert card.first6 == number.replace(" ", "").replace("-", "")[:6]


def test_mastercard_2_series_and_unknown_brands() -> None:
    assert brand_of("2221000000000009") == "Mastercard"
    assert brand_of("9999000000000000") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("4111 1111 1111 1112", "checksum"),
        ("4111 abcd", "format"),
        ("41111", "format"),
        ("9999 9999 9999 9995", "brand"),
    ],
)
def test_bad_numbers(text: str, reason: str) -> None:
    assert luhn_valid("4111111111111111")
    with pytest.raises(CardInvalid) as bad:
        check_number(text)
    assert bad.value.reason == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12/26", (12, 2026)), ("09/28", (9, 2028)), ("1/2030", (1, 2030)), ("03-27", (3, 2027))],
)
def test_expiry(text: str, expected: tuple[int, int]) -> None:
    assert check_expiry(text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("11/26", "expired"),
        ("13/27", "expiry_format"),
        ("soon", "expiry_format"),
        ("01/99", "expiry_format"),
    ],
)
def test_bad_expiry(text: str, reason: str) -> None:
    with pytest.raises(CardInvalid) as bad:
        check_expiry(text, NOW)
    assert bad.value.reason == reason


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[LedgerWorld]:
    opened = await LedgerWorld(database_url).open(ANN, BOB)
    opened.clock.advance(NOW - opened.clock.now())
    try:
        yield opened
    finally:
        await opened.close()


async def test_saved_masked_with_a_limit_no_duplicates_and_owners_only(
    world: LedgerWorld,
) -> None:
    cards = CardService(world.db, world.clock)
    saved = await cards.add(ANN, check_number(NUMBERS["Mir"]), "12/27")
    assert saved.masked == "Mir •••• 0009  12/27"
    with pytest.raises(CardDuplicate):
        await cards.add(ANN, check_number(NUMBERS["Mir"]), "12/27")
    for brand in ("Visa", "Mastercard", "UnionPay", "Amex"):
        await cards.add(ANN, check_number(NUMBERS[brand]), "01/30")
    with pytest.raises(CardLimit):
        await cards.ensure_room(ANN)
    with pytest.raises(CardLimit):
        await cards.add(ANN, check_number("4012 8888 8888 1881"), "01/30")
    # Somebody else's card id does nothing.
    with pytest.raises(StaleButton):
        await cards.delete(BOB, saved.id)
    with pytest.raises(StaleButton):
        await cards.card(BOB, saved.id)
    await cards.delete(ANN, saved.id)
    assert len(await cards.cards(ANN)) == 4
    dump = repr(await world.fetch("SELECT * FROM cards"))
    for number in NUMBERS.values():
        assert number.replace(" ", "").replace("-", "") not in dump
