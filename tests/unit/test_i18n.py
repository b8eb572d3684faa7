"""Both locales have the same keys; every key the code names exists and every key is used;
money per locale."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import SUPPORTED_LOCALES
from bot.domain.errors import (
    CardInvalid,
    CashbackRefused,
    CheckoutRefused,
    DomainError,
    GiftNoteInvalid,
    GiftUnavailable,
    InvalidAmount,
    OrderRefused,
    RefundRefused,
    RefusedInput,
    WeakPassword,
)
from bot.domain.models import CertificateSource, OperationKind
from bot.domain.money import Money
from bot.i18n import I18n, Markup, pick_locale
from bot.keyboards.commands import HELP_GROUPS
from bot.runtime.refunds import Outcome
from bot.screens.history import ACCOUNTS, KNOWN_KINDS
from bot.screens.steps import STEP_WORDS
from bot.services.cashback import REJECT_REASONS, VOID_REASONS
from bot.services.notices import AFTER_MONEY, SWITCHABLE
from bot.services.security import QUESTION_CODES
from bot.webapp.api import PAGE_TEXTS

ROOT = Path(__file__).resolve().parents[2]

# t("key" ...), key="...", and `key = "..."` class attributes of domain errors.
_KEY_PATTERNS = (
    re.compile(r"""\bt\(\s*["']([a-z][a-z0-9-]*)["']"""),
    # another translator: the operators' ops("key"), or a user's i18n.for_user(user)("key")
    re.compile(r"""(?:\bops|\))\(\s*["']([a-z]+-[a-z0-9-]+)["']"""),
    re.compile(r"""\belse\s+["']([a-z]+-[a-z0-9-]+)["']"""),
    re.compile(r"""\bkey(?:\s*:\s*str)?\s*=\s*["']([a-z][a-z0-9-]*)["']"""),
    re.compile(r"""\(\s*[A-Za-z_."']+\s*,\s*["']([a-z]+-[a-z0-9-]+)["']\s*\)"""),
    re.compile(r"""\)\s*,\s*["']([a-z]+-[a-z0-9-]+)["']\s*\)"""),  # ((states...), "key")
    re.compile(r"""\bsay\(\s*["']([a-z][a-z0-9-]*)["']"""),  # operators' ctx.say("key")
    # a notice's template, written on its own line among write_notice's arguments
    re.compile(r"""^\s+["']((?:notice|ops|support)-[a-z0-9-]+)["'],$""", re.MULTILINE),
    # a notice's template among the arguments of the calls that queue one
    re.compile(
        r"""\b(?:write_notice|tell|_tell|_to_operators)\([^)]*?["']([a-z]+-[a-z0-9-]+)["']"""
    ),
    re.compile(r"""["']([a-z]+-[a-z0-9-]+)["']\s+if\s"""),  # "key" if ... else "other"
    re.compile(r"""\bi18n,\s*["']([a-z]+-[a-z0-9-]+)["']"""),  # _tell_operators(..., i18n, "key")
)
AMOUNT_REASONS = (
    "empty",
    "too_long",
    "negative",
    "format",
    "precision",
    "zero",
    "below_min",
    "above_max",
)
# Reason codes and kinds that pick a message at run time.
DYNAMIC_KEYS = (
    AFTER_MONEY,
    *STEP_WORDS.values(),
    *(group for group, _ in HELP_GROUPS),
    *(f"admin-refund-{outcome}" for outcome in Outcome),
    *(CheckoutRefused(reason).key for reason in ("unknown", "paid", "changed")),
    *(
        RefundRefused(reason).key
        for reason in ("unknown", "spent", "gift_closed", "cashback_spent")
    ),
    *(
        GiftUnavailable(reason).key
        for reason in ("claimed", "expired", "refunded", "own_claimed", "own_expired")
    ),
    *(GiftNoteInvalid(reason).key for reason in ("empty", "too_long")),
    *(
        OrderRefused(reason).key
        for reason in (
            "no_title",
            "no_amount",
            "quantity",
            "unknown_user",
            "not_found",
            "not_payable",
            "illegal",
            "refund_amount",
            "sold_out",
            "no_product",
        )
    ),
    *(f"certificate-line-{source}" for source in ("bought", "gift", "refund")),
    *(f"webapp-source-{source}" for source in CertificateSource),
    *(f"webapp-done-{kind.replace('_', '-')}" for kind in OperationKind),
    *(f"order-action-{step}" for step in ("pay", "cancel", "confirm", "dispute")),
    *(f"history-kind-{k.replace('_', '-')}" for k in (*KNOWN_KINDS, "other")),
    *(f"history-account-{a.replace('_', '-')}" for a in ACCOUNTS),
    *(f"ops-order-{step}" for step in ("ship", "deliver", "won", "lost")),
    *(
        CashbackRefused(reason).key
        for reason in ("below_minimum", "no_card", "nothing", "cap", "reason", "decided")
    ),
    *(
        f"accrual-reason-{r.replace('_', '-')}"
        for r in (*VOID_REASONS.values(), "refunded", "other")
    ),
    *(f"withdrawal-reason-{r.replace('_', '-')}" for r in REJECT_REASONS),
    *(f"ops-withdrawal-{status}" for status in ("paid", "rejected")),
    *(f"notice-withdrawal-{status}" for status in ("paid", "rejected")),
    "notice-cashback-available",
    "ops-withdrawal",
    *(f"notifications-kind-{kind.replace('_', '-')}" for kind in SWITCHABLE),
    *(
        f"order-status-{status}"
        for status in (
            "awaiting-payment",
            "paid",
            "shipped",
            "delivered",
            "completed",
            "cancelled",
            "disputed",
            "dispute-won",
            "dispute-lost",
        )
    ),
    *(
        f"ops-discrepancy-{kind}"
        for kind in (
            "uncredited",
            "unreversed",
            "unknown-to-telegram",
            "unreturned",
            "amount",
            "balance",
        )
    ),
)
CARD_REASONS = ("format", "checksum", "brand", "expiry_format", "expired")
WEAK_REASONS = ("too_short", "too_long", "one_char", "sequence", "common", "name")


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(SUPPORTED_LOCALES, "en", "USD")


def keys_used_in_code() -> set[str]:
    used: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        source = path.read_text("utf-8")
        for pattern in _KEY_PATTERNS:
            used.update(pattern.findall(source))
    used.update(InvalidAmount(reason).key for reason in AMOUNT_REASONS)
    used.update(f"language-button-{code}" for code in SUPPORTED_LOCALES)
    used.update(f"question-{code}" for code in QUESTION_CODES)
    used.update(WeakPassword(reason).key for reason in WEAK_REASONS)
    used.update(CardInvalid(reason).key for reason in CARD_REASONS)
    used.update(DYNAMIC_KEYS)
    used.update(PAGE_TEXTS)  # the Mini App's words, sent to its page
    return used


def test_locales_have_the_same_keys(i18n: I18n) -> None:
    ru, en = i18n.keys("ru"), i18n.keys("en")
    assert ru == en, f"only in ru: {sorted(ru - en)}; only in en: {sorted(en - ru)}"
    assert len(ru) > 30


def test_every_key_used_in_code_exists(i18n: I18n) -> None:
    used = keys_used_in_code()
    assert "start-greeting" in used and "amount-too-long" in used  # the scan sees real keys
    missing = used - i18n.keys("en")
    assert not missing, f"keys used in code but missing in locales: {sorted(missing)}"


def test_every_key_in_the_locales_is_used(i18n: I18n) -> None:
    unused = i18n.keys("en") - keys_used_in_code()
    assert not unused, f"keys no code names: {sorted(unused)}"


def test_domain_error_default_key_exists(i18n: I18n) -> None:
    for cls in (DomainError, *DomainError.__subclasses__()):
        if cls is not RefusedInput:
            assert cls.key in i18n.keys("ru"), cls


def test_money_is_formatted_per_locale(i18n: I18n) -> None:
    amount = Money(1201, "USD")
    assert i18n("en").money(amount) == "$12.01"
    assert i18n("ru").money(amount) == "12,01\xa0$"


def test_parameters_are_html_escaped(i18n: I18n) -> None:
    text = i18n("en")("start-greeting", name="<b>Eve</b> & co")
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in text
    assert "<b>Eve</b>" not in text


def test_a_formatted_message_is_kept_apart_per_parameter_type(i18n: I18n) -> None:
    """Markup("<b>") equals "<b>" but is not escaped: the cache must not mix them up."""
    t = i18n("en")
    escaped = t("start-greeting", name="<b>Eve</b>")
    raw = t("start-greeting", name=Markup("<b>Eve</b>"))
    assert "&lt;b&gt;Eve" in escaped and "<b>Eve</b>" in raw
    assert t("start-greeting", name="<b>Eve</b>") == escaped
    assert t("start-greeting", name=Markup("<b>Eve</b>")) == raw
    assert t("support-relayed", ticket=1, user_id=5, name="Eve", text="hi") != t(
        "support-relayed", ticket=2, user_id=5, name="Eve", text="hi"
    )


def test_missing_key_falls_back_to_key_and_logs(
    i18n: I18n, caplog: pytest.LogCaptureFixture
) -> None:
    assert i18n("en")("no-such-key") == "no-such-key"
    assert "i18n_missing_key" in caplog.text


def test_dates_are_localized(i18n: I18n) -> None:
    moment = datetime(2026, 3, 7, 14, 5, tzinfo=UTC)
    assert "14:05" in i18n("ru").datetime(moment)
    assert "2:05" in i18n("en").datetime(moment)


@pytest.mark.parametrize(
    ("chosen", "client", "expected"),
    [
        (None, "ru", "ru"),
        (None, "ru-RU", "ru"),
        (None, "en-US", "en"),
        (None, "uk", "en"),
        (None, None, "ru"),  # no client language: the configured default
        ("en", "ru", "en"),  # the user's choice wins
        ("xx", "ru", "ru"),  # an unknown stored choice is ignored
    ],
)
def test_pick_locale(chosen: str | None, client: str | None, expected: str) -> None:
    assert pick_locale(chosen, client, SUPPORTED_LOCALES, default="ru") == expected


def test_rendered_lines_nest_without_a_second_escape(i18n: I18n) -> None:
    t = i18n("en")
    line = t("orders-line", id=1, title="Tea & <cake>", amount="$1.00", status="paid", date="x")
    assert "Tea &amp; &lt;cake&gt;" in line
    nested = t("orders-list", lines=t.lines([line, "raw <i>"]), page=1, pages=1)
    assert "Tea &amp; &lt;cake&gt;" in nested and "raw &lt;i&gt;" in nested
    history = t("history-line", date="d", what="w", account="a", amount="+$1", after="$2")
    assert "<b>+$1</b>" in t("history-title", lines=t.lines([history]))


def test_record_ids_are_never_grouped_but_amounts_are(i18n: I18n) -> None:
    for locale in ("en", "ru"):
        t = i18n(locale)
        assert "12345 " in t("order-paid", id=12345, balance="$1")
        assert "1001" in t("admin-reset-nothing", user_id=1001)
    assert "10,000" in i18n("en")(
        "ops-discrepancy-uncredited", charge_id="c", user_id=7, stars=10000
    )


def test_a_moment_is_a_date_time_entity_around_the_locales_date(i18n: I18n) -> None:
    when = datetime(2026, 12, 21, 9, 30, tzinfo=UTC)
    ru = i18n("ru").moment(when)
    day = i18n("ru").date(when)  # Babel's own spacing
    assert day.startswith("21") and "дек." in day
    assert ru == f'<tg-time unix="{int(when.timestamp())}" format="D">{day}</tg-time>'
    assert isinstance(ru, Markup)  # passed on as a parameter, it is not escaped again
    line = i18n("en")("cashback-next", amount="$1.00", date=i18n("en").moment(when))
    assert '<tg-time unix="' in line and "Dec 21, 2026</tg-time>" in line
