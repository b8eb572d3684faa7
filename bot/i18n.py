"""Messages from Fluent files in ``bot/locales/<lang>/``; money and dates formatted by Babel."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_currency, format_decimal
from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax import ast

from bot.domain.errors import DomainError
from bot.domain.models import OrderStatus, UserRecord
from bot.domain.money import Money

log = logging.getLogger(__name__)

# Inside the package, so an installed wheel carries its messages.
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def pick_locale(
    chosen: str | None, client: str | None, supported: tuple[str, ...], default: str
) -> str:
    """The user's own choice wins; else ``ru*`` clients get Russian and other clients English."""
    if chosen in supported:
        return chosen
    if client:
        base = client.split("-")[0].lower()
        if base == "ru" and "ru" in supported:
            return "ru"
        return "en" if "en" in supported else default
    return default


class Markup(str):
    """Text this bot has already rendered: passed as a parameter, it is not escaped again."""


# Parameters that name a record: shown as typed ("#1234", "user 1001"), never as a grouped
# number ("#1,234"), which Fluent would make of an int. Amounts and counts keep grouping.
IDENTIFIERS = frozenset({"id", "order", "request", "ticket", "user", "user_id", "update_id"})


# Formatted messages kept per locale; the cache starts again when it is full.
FORMATTED_CACHE = 4096


@lru_cache(maxsize=8192)
def _money_text(amount: Money, locale: str) -> str:
    """Babel re-reads the locale's patterns on every call; the same few amounts recur. A negative
    amount takes the minus sign (U+2212), as the history's lines do: one minus sign throughout."""
    return str(format_currency(amount.as_decimal(), amount.currency, locale=locale)).replace(
        "-", "\u2212"
    )


class Translator:
    """Formats messages of one locale. String parameters are HTML-escaped (parse_mode=HTML),
    except :class:`Markup`: the translator's own output, so rendered lines can nest."""

    def __init__(self, locale: str, bundle: FluentBundle, currency: str) -> None:
        self.locale = locale
        self._bundle = bundle
        self.currency = currency
        # Formatting is a pure function of the key and the parameters, and the same screens
        # recur (a button's label, a balance shown again): kept until the cache is full.
        self._formatted: dict[tuple[Any, ...], str] = {}

    def __call__(self, key: str, /, **params: Any) -> str:
        try:
            # The type too: Markup("<b>") is equal to "<b>" but is not escaped.
            cache_key: tuple[Any, ...] | None = (
                key,
                *((name, type(value), value) for name, value in params.items()),
            )
            known = self._formatted.get(cache_key)  # type: ignore[arg-type]
        except TypeError:  # a parameter that cannot be hashed is formatted every time
            cache_key = known = None
        if known is not None:
            return known
        text = self._format(key, params)
        if cache_key is not None:
            if len(self._formatted) >= FORMATTED_CACHE:
                self._formatted.clear()
            self._formatted[cache_key] = text
        return text

    def _format(self, key: str, params: dict[str, Any]) -> str:
        if not self._bundle.has_message(key):
            log.error("event=i18n_missing_key locale=%s key=%s", self.locale, key)
            return key
        message = self._bundle.get_message(key)
        if message.value is None:
            return key
        args = {
            name: html.escape(value, quote=False)
            if isinstance(value, str) and not isinstance(value, Markup)
            else str(value)
            if name in IDENTIFIERS and isinstance(value, int)
            else value
            for name, value in params.items()
        }
        text, errors = self._bundle.format_pattern(message.value, args)
        for error in errors:
            log.error("event=i18n_format_error locale=%s key=%s error=%r", self.locale, key, error)
        return Markup(text)

    def lines(self, items: Iterable[str]) -> Markup:
        """Rendered lines joined into one parameter; anything not rendered here is escaped."""
        return Markup(
            "\n".join(
                item if isinstance(item, Markup) else html.escape(item, quote=False)
                for item in items
            )
        )

    def error(self, error: DomainError) -> str:
        """A domain error's message, its money, moments and statuses in this locale's words."""
        return self(error.key, **{name: self.value(v) for name, v in error.params.items()})

    def value(self, value: object) -> object:
        """A parameter as this locale shows it: money, a moment, an order's status."""
        if isinstance(value, Money):
            return self.money(value)
        if isinstance(value, datetime):
            return self.datetime(value)
        if isinstance(value, timedelta):
            return self.from_now(value)
        if isinstance(value, OrderStatus):
            return self(f"order-status-{value.replace('_', '-')}")
        if isinstance(value, DomainError):
            return self.error(value)
        return value

    def percent(self, value: Decimal) -> str:
        """A percentage's number as this locale writes it: 1, 2.5 or 2,5 (the % is in the text)."""
        return str(format_decimal(value, locale=self.locale))

    def money(self, amount: Money) -> str:
        return _money_text(amount, self.locale)

    def stars(self, nanos: int, *, signed: bool = False) -> str:
        """Stars from billionths of a Star, every digit kept: 1,250 or 13.5 (13,5)."""
        text = str(
            format_decimal(
                Decimal(nanos).scaleb(-9).normalize(),
                locale=self.locale,
                decimal_quantization=False,
            )
        )
        return f"+{text}" if signed and nanos > 0 else text

    def date(self, moment: datetime) -> str:
        return str(format_date(moment, "medium", locale=self.locale))

    def moment(self, when: datetime) -> Markup:
        """A date in a message as a date_time entity: Telegram shows it in the reader's own
        time zone and calendar, and this locale's wording is what older clients show."""
        return Markup(
            f'<tg-time unix="{int(when.timestamp())}" format="D">{html.escape(self.date(when))}'
            "</tg-time>"
        )

    def from_now(self, span: timedelta) -> str:
        """How long from now, in words: "in 15 minutes", "через 15 минут"."""
        return str(format_timedelta(span, add_direction=True, locale=self.locale))

    def datetime(self, moment: datetime) -> str:
        # The date as date() writes it (never a US numeric 12/7/26), then the time.
        day = format_date(moment, "medium", locale=self.locale)
        time = format_time(moment, "short", tzinfo=moment.tzinfo, locale=self.locale)
        text = f"{day}, {time}"
        return f"{text} UTC" if moment.utcoffset() == timedelta(0) else text


class I18n:
    """All locales, loaded once at start-up."""

    def __init__(
        self, locales: tuple[str, ...], default: str, currency: str, directory: Path = LOCALES_DIR
    ) -> None:
        self.locales = locales
        self.default = default
        self._translators: dict[str, Translator] = {}
        self._keys: dict[str, set[str]] = {}
        for locale in locales:
            bundle = FluentBundle([locale], use_isolating=False)
            keys: set[str] = set()
            files = sorted((directory / locale).glob("*.ftl"))
            if not files:
                raise RuntimeError(f"no .ftl files for locale {locale!r} in {directory}")
            for path in files:
                resource = FluentResource(path.read_text("utf-8"))
                for item in resource.body:
                    if isinstance(item, ast.Message):
                        keys.add(item.id.name)
                    elif isinstance(item, ast.Junk):
                        raise RuntimeError(f"syntax error in {path}: {(item.content or '')[:80]!r}")
                bundle.add_resource(resource)
            self._keys[locale] = keys
            self._translators[locale] = Translator(locale, bundle, currency)

    def __call__(self, locale: str) -> Translator:
        return self._translators.get(locale) or self._translators[self.default]

    def keys(self, locale: str) -> set[str]:
        return set(self._keys[locale])

    def pick(self, chosen: str | None, client: str | None) -> str:
        return pick_locale(chosen, client, self.locales, self.default)

    def for_user(self, user: UserRecord | None) -> Translator:
        """A known user's translator (their choice, else their client's); the default else."""
        if user is None:
            return self(self.default)
        return self(self.pick(user.language, user.client_language))
