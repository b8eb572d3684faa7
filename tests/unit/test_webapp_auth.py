"""initData as the Mini App's only proof of who opens it: each case answered as Telegram's
rules and our freshness window say."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest
from aiogram.utils.web_app import check_webapp_signature

from bot.emulator.webapp import data_check_string, init_data_hash, sign_init_data
from bot.webapp.api import PAGE_TEXTS, STATIC
from bot.webapp.auth import Sessions, Unauthorized, check_init_data, viewer_of

TOKEN = "123456:AAH-the-bot-token-used-by-these-tests-only"
OTHER_TOKEN = "654321:AAH-another-bot-token-used-by-these-tests"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
USER = {"id": 42, "first_name": "Анна", "language_code": "ru"}


def fields(age: timedelta = timedelta(minutes=1), **extra: str) -> dict[str, str]:
    return {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(USER, separators=(",", ":"), ensure_ascii=False),
        "auth_date": str(int((NOW - age).timestamp())),
        **extra,
    }


def check(init_data: str, max_age: timedelta = WEEK, token: str = TOKEN) -> int:
    data = check_init_data(token, init_data, now=NOW, max_age=max_age)
    return viewer_of(data).user_id


def refused(init_data: str, reason: str, max_age: timedelta = WEEK, token: str = TOKEN) -> None:
    with pytest.raises(Unauthorized) as caught:
        check(init_data, max_age, token)
    assert caught.value.reason == reason


def test_the_signer_agrees_with_aiogram() -> None:
    assert check_webapp_signature(TOKEN, sign_init_data(TOKEN, fields()))
    assert not check_webapp_signature(OTHER_TOKEN, sign_init_data(TOKEN, fields()))


def test_a_valid_one_is_accepted_and_names_its_user() -> None:
    data = check_init_data(TOKEN, sign_init_data(TOKEN, fields()), now=NOW, max_age=WEEK)
    viewer = viewer_of(data)
    assert (viewer.user_id, viewer.first_name, viewer.language_code) == (42, "Анна", "ru")


def test_one_with_a_signature_field_is_accepted() -> None:
    """Newer clients add ``signature`` (Ed25519, for third parties); the hash covers it too."""
    signed = sign_init_data(TOKEN, fields(signature="6fbdaab833d39f54518bd5c3eb3f511d0"))
    assert check(signed) == 42
    without = urlencode([(k, v) for k, v in parse_qsl(signed) if k != "signature"])
    refused(without, "signature")  # taking it out breaks the hash


def test_a_tampered_value_is_refused() -> None:
    pairs = dict(parse_qsl(sign_init_data(TOKEN, fields())))
    pairs["user"] = pairs["user"].replace('"id":42', '"id":43')
    refused(urlencode(pairs), "signature")


def test_fields_signed_in_another_order_are_refused() -> None:
    """The hash must cover the fields sorted by key; one made over them as sent does not
    match. (Sending a genuine string's pairs in another order changes nothing signed.)"""
    unsorted = fields()
    check_string = "\n".join(f"{key}={value}" for key, value in unsorted.items())
    assert check_string != data_check_string(unsorted)
    forged = urlencode({**unsorted, "hash": init_data_hash(TOKEN, check_string)})
    refused(forged, "signature")
    genuine = parse_qsl(sign_init_data(TOKEN, fields()))
    assert check(urlencode(list(reversed(genuine)))) == 42


def test_a_duplicated_key_is_refused() -> None:
    """``dict()`` keeps the last of two ``user`` pairs: a signed string with another user put
    first would pass aiogram's check on its own."""
    signed = sign_init_data(TOKEN, fields())
    impostor = json.dumps({**USER, "id": 43}, separators=(",", ":"))
    refused(urlencode({"user": impostor}) + "&" + signed, "duplicate_key")


def test_a_missing_hash_is_refused() -> None:
    refused(urlencode(fields()), "signature")


def test_another_bots_token_is_refused() -> None:
    refused(sign_init_data(OTHER_TOKEN, fields()), "signature")


def test_malformed_and_oversized_strings_are_refused() -> None:
    refused("", "size")
    refused("user=%7B&&&hash", "malformed")
    refused("a=" + "x" * 10_000, "size")


def test_freshness_window() -> None:
    refused(sign_init_data(TOKEN, fields(age=timedelta(days=8))), "too_old")
    refused(sign_init_data(TOKEN, fields(age=timedelta(days=30))), "too_old")
    refused(sign_init_data(TOKEN, fields(age=-timedelta(minutes=6))), "from_the_future")
    assert check(sign_init_data(TOKEN, fields(age=timedelta(days=2)))) == 42
    assert check(sign_init_data(TOKEN, fields(age=-timedelta(minutes=4)))) == 42
    # A shorter window, as an operator may set it, is honoured.
    refused(sign_init_data(TOKEN, fields(age=timedelta(days=2))), "too_old", timedelta(days=1))


def test_initdata_without_a_user_is_refused() -> None:
    no_user = {k: v for k, v in fields().items() if k != "user"}
    refused(sign_init_data(TOKEN, no_user), "no_user")


def test_a_session_names_its_user_until_it_lapses() -> None:
    sessions = Sessions(TOKEN)
    token = sessions.issue(42, NOW)
    assert sessions.user_of(token, NOW + timedelta(minutes=14)) == 42
    with pytest.raises(Unauthorized, match="session_expired"):
        sessions.user_of(token, NOW + timedelta(minutes=15))


def test_a_forged_session_is_refused() -> None:
    sessions = Sessions(TOKEN)
    token = sessions.issue(42, NOW)
    user, expires, mac = token.split(".")
    for forged in (f"43.{expires}.{mac}", f"{user}.{int(expires) + 3600}.{mac}", "42", "a.b.c"):
        with pytest.raises(Unauthorized):
            sessions.user_of(forged, NOW)
    with pytest.raises(Unauthorized, match="session_signature"):
        Sessions(OTHER_TOKEN).user_of(token, NOW)  # another bot's, or before a token change


def test_the_page_asks_only_for_words_the_session_sends() -> None:
    """Every ``data-text`` of the page and every ``say("...")`` of its script is in PAGE_TEXTS,
    so each reaches the page in the user's language."""
    page = (STATIC / "index.html").read_text("utf-8")
    script = (STATIC / "app.js").read_text("utf-8")
    asked = set(re.findall(r'data-text="([a-z0-9-]+)"', page))
    asked |= set(re.findall(r'say\("([a-z0-9-]+)"\)', script))
    assert len(asked) > 15
    assert asked <= set(PAGE_TEXTS), sorted(asked - set(PAGE_TEXTS))
    assert (STATIC / "telegram-web-app.js").stat().st_size > 50_000
