"""Settings: required token, one-line errors, parsing of lists and URLs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings

TOKEN = "123456:" + "A" * 35


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No .env from the developer's checkout, no variables from their shell.
    monkeypatch.chdir(tmp_path)
    for name in (
        "BOT_TOKEN",
        "TELEGRAM_API_URL",
        "DATA_DIR",
        "ADMIN_IDS",
        "SUPPORT_CHAT_ID",
        "DEFAULT_LOCALE",
        "CURRENCY",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_missing_token_is_one_clear_line() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "BOT_TOKEN is not set" in str(info.value)
    assert "@BotFather" in str(info.value)
    assert "\n" not in str(info.value)


def test_malformed_token_is_named_but_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "not-a-token-secret-value")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("BOT_TOKEN")
    assert "not-a-token-secret-value" not in str(info.value)


def test_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ADMIN_IDS", "1, 22,333")
    monkeypatch.setenv("SUPPORT_CHAT_ID", "-1001234567890")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("CURRENCY", "eur")
    settings = load_settings()
    assert settings.admin_ids == frozenset({1, 22, 333})
    assert settings.support_chat_id == -1001234567890
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.currency == "EUR"
    assert TOKEN not in repr(settings)


def test_empty_optional_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", "")
    monkeypatch.setenv("SUPPORT_CHAT_ID", "")
    monkeypatch.setenv("ADMIN_IDS", "")
    settings = load_settings()
    assert settings.telegram_api_url is None
    assert settings.support_chat_id is None
    assert settings.admin_ids == frozenset()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "1,abc"),
        ("CURRENCY", "DOLLARS"),
        ("DEFAULT_LOCALE", "de"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_URL", "ftp://x"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(name)


def test_cli_without_token_prints_one_line_and_fails(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]] and "BOT_TOKEN is not set" in lines[0], result.stderr


@pytest.mark.parametrize(("value", "seconds"), [("P2D", 172800), ("3600", 3600), ("PT90M", 5400)])
def test_inbox_retention_takes_seconds_or_iso_8601(value: str, seconds: int) -> None:
    settings = load_settings(bot_token=TOKEN, inbox_retention=value, _env_file=None)
    assert settings.inbox_retention.total_seconds() == seconds


def test_inbox_retention_of_a_week_or_more_is_refused() -> None:
    with pytest.raises(SettingsError, match="INBOX_RETENTION"):
        load_settings(bot_token=TOKEN, inbox_retention="P7D", _env_file=None)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("LOCKOUT_WINDOW", "15m", "LOCKOUT_WINDOW=15m: use seconds or ISO 8601, e.g. 900 or PT15M"),
        ("LOCKOUT_MAX_FAILURES", "five", "LOCKOUT_MAX_FAILURES=five: use a whole number, e.g. 5"),
        ("STARS_PER_UNIT", "x", "STARS_PER_UNIT=x: use a number with a dot, e.g. 12.50"),
        ("NOTICE_RATE", "0", "NOTICE_RATE=0: must be greater than 0"),
        ("CASHBACK_HOLD", "", "CASHBACK_HOLD is empty: use seconds or ISO 8601"),
    ],
)
def test_settings_errors_name_the_value_and_the_accepted_forms(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(expected)
    assert "Input should" not in str(info.value) and "valid timedelta" not in str(info.value)


def test_a_copied_env_example_with_an_empty_token_says_it_is_not_set(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (tmp_path / ".env").write_text(example.read_text("utf-8"), encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("BOT_TOKEN is not set") and "@BotFather" in str(info.value)


def test_a_secret_is_never_echoed_in_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SECRET_PEPPER", "short-pepper-value")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith("SECRET_PEPPER ") and "short-pepper" not in str(info.value)
