"""Exact money on integer minor units, with a strict parser for what users type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Self

from babel.numbers import get_currency_precision

from bot.domain.errors import InvalidAmount

# Digits, then an optional separator and 1-2 (or currency-precision) decimals. Nothing else:
# no sign, no exponent, no thousands separators, no "NaN"/"inf".
_AMOUNT_RE = re.compile(r"^(?P<whole>[0-9]{1,12})(?:[.,](?P<frac>[0-9]+))?$")
MAX_INPUT_LENGTH = 32


def currency_exponent(currency: str) -> int:
    """Number of minor-unit digits for an ISO 4217 code (USD 2, JPY 0)."""
    return int(get_currency_precision(currency))


@dataclass(frozen=True, slots=True, order=True)
class Money:
    minor: int
    currency: str = "USD"

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError("Money.minor must be an int")

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Self:
        """Parse user input such as ``12.01``, ``12,01`` or ``12``.

        Raises InvalidAmount with a reason code that maps to a localized message.
        """
        raw = text.strip()
        if not raw:
            raise InvalidAmount("empty")
        if len(raw) > MAX_INPUT_LENGTH:
            raise InvalidAmount("too_long")
        if raw.startswith("-"):
            raise InvalidAmount("negative")
        match = _AMOUNT_RE.match(raw)
        if match is None:
            raise InvalidAmount("format")
        exponent = currency_exponent(currency)
        frac = match.group("frac") or ""
        if len(frac) > exponent:
            raise InvalidAmount("precision")
        minor = int(match.group("whole")) * 10**exponent + int(frac.ljust(exponent, "0") or 0)
        if minor == 0:
            raise InvalidAmount("zero")
        return cls(minor, currency)

    @classmethod
    def from_units(cls, units: int | str | Decimal, currency: str) -> Self:
        """Whole currency units from configuration, e.g. ``from_units(20, "USD")`` is $20.00."""
        value = Decimal(units) * 10 ** currency_exponent(currency)
        if value != value.to_integral_value():
            raise ValueError(f"{units} has more precision than {currency} allows")
        return cls(int(value), currency)

    def as_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-currency_exponent(self.currency))

    def percent(self, percent: Decimal) -> Money:
        """``percent`` % of this amount, rounded half-up to the minor unit."""
        share = (Decimal(self.minor) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return Money(int(share), self.currency)

    def share(self, part: Money, whole: Money) -> Money:
        """The share of this amount that ``part`` is of ``whole``, rounded down to the minor
        unit: what a partial refund takes from an order's cashback."""
        part._same(whole)
        return Money(self.minor * part.minor // whole.minor, self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __bool__(self) -> bool:
        return self.minor != 0

    def __str__(self) -> str:
        return f"{self.as_decimal()} {self.currency}"
