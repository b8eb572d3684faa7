"""Settings from the environment and ``.env``; every variable is documented in .env.example."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LOCALES = ("ru", "en")
# <bot id>:<secret> as @BotFather issues them.
_SECONDS_RE = re.compile(r"^\d{1,10}(\.\d{1,6})?$")
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr
    telegram_api_url: str | None = None
    data_dir: Path = Path("./data")
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    support_chat_id: int | None = None
    default_locale: str = "en"
    currency: str = "USD"
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    database_url: str | None = None
    secret_pepper: SecretStr | None = None
    lockout_max_failures: int = Field(default=5, ge=1, le=100)
    lockout_window: timedelta = timedelta(minutes=15)
    lockout_period: timedelta = timedelta(minutes=15)
    inbox_max_lanes: int = Field(default=64, ge=1, le=10_000)
    inbox_max_attempts: int = Field(default=5, ge=1, le=100)
    inbox_retention: timedelta = timedelta(days=2)
    database_pool_size: int = Field(default=10, ge=1, le=200)
    # Certificates: amounts in whole units of CURRENCY.
    certificate_nominals: Annotated[tuple[Decimal, ...], NoDecode] = tuple(
        Decimal(n) for n in (5, 10, 20, 50, 100, 200)
    )
    certificate_min: Decimal = Field(default=Decimal(5), gt=0)
    certificate_max: Decimal = Field(default=Decimal(200), gt=0)
    balance_max: Decimal = Field(default=Decimal(2000), gt=0)
    payment_provider_token: SecretStr | None = None
    stars_per_unit: Decimal = Field(default=Decimal(50), gt=0, le=100_000)
    certificate_cashback_percent: Decimal = Field(default=Decimal(1), ge=0, le=100)
    gift_ttl: timedelta = timedelta(days=30)
    reconcile_interval: timedelta = timedelta(hours=1)
    order_protection: timedelta = timedelta(days=15)
    catalog_path: Path | None = None  # None: the demo catalog in the repository's data/
    # Cashback programme and scheduled notices.
    cashback_hold: timedelta = timedelta(days=14)
    withdraw_min: Decimal = Field(default=Decimal(5), gt=0)
    order_confirm_reminder: timedelta = timedelta(days=3)
    scheduler_interval: timedelta = timedelta(seconds=60)
    notice_poll: timedelta = timedelta(seconds=1)
    # How long a sender owns the rows it claimed; after a crash they go out again this late.
    notice_lease: timedelta = timedelta(seconds=30)
    notice_rate: float = Field(default=25.0, gt=0, le=30)
    notice_max_attempts: int = Field(default=8, ge=1, le=100)
    # Webhook mode (python -m bot webhook) and replicas.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port
    redis_url: SecretStr | None = None
    # How long a replica owns a chat's lane without renewing it: a killed replica's chats are
    # taken over by another this late (at most twice this, with the scan between).
    lane_lease: timedelta = timedelta(seconds=5)
    # Polling: /metrics, /healthz and /readyz on this port (webhook mode serves them on its own).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    # The Mini App: its public https:// URL (served at /app/ of the webhook's server), and how
    # old an initData may be (Telegram clients hand out cached ones a day old and more).
    webapp_url: str | None = None
    webapp_initdata_max_age: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_RE.match(value.get_secret_value().strip()):
            # Never echo the value back: it may be a real token with a typo.
            raise ValueError("does not look like a token from @BotFather (<digits>:<secret>)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator(
        "telegram_api_url",
        "support_chat_id",
        "database_url",
        "catalog_path",
        "webhook_url",
        "webhook_secret",
        "redis_url",
        "metrics_port",
        "webapp_url",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_api_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8081")
        return value.rstrip("/") if value else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+(/\S*)?$", value.strip()):
            raise ValueError("must be the public https:// URL Telegram posts updates to")
        return value.strip() if value else value

    @field_validator("webapp_url")
    @classmethod
    def _webapp_url_shape(cls, value: str | None) -> str | None:
        # Telegram opens Mini Apps over https only; a local address serves the playground.
        local = r"^http://(127\.0\.0\.1|localhost)(:\d+)?/"
        if value is not None and not (
            re.match(r"^https://[^\s/]+/\S*$", value.strip()) or re.match(local, value.strip())
        ):
            raise ValueError("must be the public https:// URL of the Mini App, ending in /app/")
        return value.strip() if value else value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token; it travels in a header, never in a URL.
        if value is not None and not _WEBHOOK_SECRET_RE.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(
            r"^(redis|rediss|unix)://\S+$", value.get_secret_value().strip()
        ):
            raise ValueError("must look like redis://host:6379/0")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(re.fullmatch(r"-?\d+", p) for p in parts):
                raise ValueError("must be comma-separated Telegram user ids, e.g. 1234,5678")
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        from babel.numbers import list_currencies

        code = value.strip().upper()
        if code not in list_currencies():
            raise ValueError("must be an ISO 4217 code such as USD or EUR")
        return code

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not re.match(r"^(sqlite:///.+|postgres(ql)?://.+)$", value):
            # Never echo it: a PostgreSQL URL may carry a password.
            raise ValueError(
                "must look like sqlite:///data/giftwallet.sqlite3 or "
                "postgresql://user:password@host:5432/database"
            )
        return value

    @field_validator("secret_pepper", mode="before")
    @classmethod
    def _empty_pepper_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("secret_pepper")
    @classmethod
    def _pepper_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError(
                "must be at least 32 characters, e.g. the output of"
                " python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return value

    @field_validator("certificate_nominals", mode="before")
    @classmethod
    def _split_nominals(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                nominals = tuple(Decimal(p.strip()) for p in value.split(",") if p.strip())
            except InvalidOperation:
                raise ValueError("must be comma-separated amounts, e.g. 5,10,20,50") from None
            return nominals
        return value

    @field_validator("certificate_nominals")
    @classmethod
    def _nominals_sane(cls, value: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not value or len(value) > 12 or any(n <= 0 or not n.is_finite() for n in value):
            raise ValueError("must list 1 to 12 positive amounts, e.g. 5,10,20,50")
        return tuple(sorted(set(value)))

    @field_validator("payment_provider_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _certificate_limits(self) -> Settings:
        from bot.domain.money import Money

        try:
            for amount in (
                *self.certificate_nominals,
                self.certificate_min,
                self.certificate_max,
                self.balance_max,
                self.withdraw_min,
            ):
                Money.from_units(amount, self.currency)
        except ValueError:
            raise ValueError(
                f"certificate amounts must fit {self.currency}'s minor unit, e.g. 12.50"
            ) from None
        if not self.certificate_min <= self.certificate_max <= self.balance_max:
            raise ValueError("CERTIFICATE_MIN <= CERTIFICATE_MAX <= BALANCE_MAX must hold")
        if not all(
            self.certificate_min <= n <= self.certificate_max for n in self.certificate_nominals
        ):
            raise ValueError("every CERTIFICATE_NOMINALS amount must be within MIN..MAX")
        if self.order_confirm_reminder >= self.order_protection:
            raise ValueError("ORDER_CONFIRM_REMINDER must be shorter than ORDER_PROTECTION")
        return self

    @field_validator(
        "inbox_retention",
        "lockout_window",
        "lockout_period",
        "gift_ttl",
        "reconcile_interval",
        "order_protection",
        "cashback_hold",
        "order_confirm_reminder",
        "scheduler_interval",
        "notice_poll",
        "notice_lease",
        "lane_lease",
        mode="before",
    )
    @classmethod
    def _seconds_or_iso(cls, value: Any) -> Any:
        # From the environment every value is text: "3600" means seconds, "P2D" is ISO 8601.
        if isinstance(value, str) and _SECONDS_RE.match(value.strip()):
            return float(value.strip())
        return value

    @field_validator("inbox_retention")
    @classmethod
    def _retention_below_a_week(cls, value: timedelta) -> timedelta:
        # After a week without updates Telegram may restart update ids at random: older rows
        # must be gone by then, or a new update could collide with a kept one.
        if not timedelta(minutes=1) <= value < timedelta(days=7):
            raise ValueError("must be between 60 seconds and 6 days (seconds or ISO 8601, P2D)")
        return value

    @field_validator("gift_ttl", "reconcile_interval", "order_protection")
    @classmethod
    def _at_least_a_minute(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("must be at least 60 seconds (seconds or ISO 8601, e.g. P30D)")
        return value

    @field_validator("cashback_hold", "order_confirm_reminder")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative (seconds or ISO 8601, e.g. P14D)")
        return value

    @field_validator("scheduler_interval", "notice_poll")
    @classmethod
    def _a_sane_period(cls, value: timedelta) -> timedelta:
        if not timedelta(milliseconds=10) <= value <= timedelta(hours=1):
            raise ValueError("must be between 0.01 and 3600 seconds (or ISO 8601, e.g. PT1M)")
        return value

    @field_validator("notice_lease")
    @classmethod
    def _outlasts_a_send(cls, value: timedelta) -> timedelta:
        # A claimed batch takes about a second to send; one send may take a third of the lease.
        if not timedelta(seconds=3) <= value <= timedelta(hours=1):
            raise ValueError("must be between 3 and 3600 seconds (or ISO 8601, e.g. PT30S)")
        return value

    @field_validator("lane_lease")
    @classmethod
    def _lease_outlasts_a_renewal(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(minutes=5):
            raise ValueError("must be between 1 and 300 seconds (or ISO 8601, e.g. PT5S)")
        return value

    @property
    def database(self) -> str:
        """DATABASE_URL, or the SQLite file in DATA_DIR that earlier releases used."""
        return self.database_url or f"sqlite:///{self.data_dir / 'giftwallet.sqlite3'}"


class SettingsError(Exception):
    """A configuration problem, explained in one line."""


# Pydantic's wording for a value it cannot read, in plain words with the forms it accepts.
_ACCEPTED_FORMS = {
    "time_delta_parsing": "use seconds or ISO 8601, e.g. 900 or PT15M",
    "time_delta_type": "use seconds or ISO 8601, e.g. 900 or PT15M",
    "int_parsing": "use a whole number, e.g. 5",
    "int_type": "use a whole number, e.g. 5",
    "int_from_float": "use a whole number, e.g. 5",
    "decimal_parsing": "use a number with a dot, e.g. 12.50",
    "decimal_type": "use a number with a dot, e.g. 12.50",
    "float_parsing": "use a number with a dot, e.g. 12.5",
    "float_type": "use a number with a dot, e.g. 12.5",
    "bool_parsing": "use true or false",
}
# Never echoed back: a real secret with a typo, or a URL with a password in it.
_SECRET_SETTINGS = frozenset(
    {
        "BOT_TOKEN",
        "SECRET_PEPPER",
        "PAYMENT_PROVIDER_TOKEN",
        "DATABASE_URL",
        "REDIS_URL",
        "WEBHOOK_SECRET",
    }
)
_NOT_SET = {
    "BOT_TOKEN": "BOT_TOKEN is not set: get a token from @BotFather and put it in .env "
    "(see .env.example)",
}


def _problem(error: Any) -> str:
    """One setting's problem in plain words: its name, what was given, what is accepted."""
    name = str(error["loc"][0]).upper() if error["loc"] else "settings"
    given = error.get("input")
    empty = isinstance(given, str) and not given.strip()
    if error["type"] == "missing" or (empty and name in _NOT_SET):
        return _NOT_SET.get(name, f"{name} is not set")
    reason = _ACCEPTED_FORMS.get(error["type"])
    if reason is None:
        reason = str(error["msg"]).removeprefix("Value error, ").replace("Input should", "must")
    if not error["loc"]:
        return reason
    if empty:
        return f"{name} is empty: {reason}, or remove the line for the default"
    if name in _SECRET_SETTINGS or not isinstance(given, str | int | float):
        return f"{name} {reason}"
    return f"{name}={given}: {reason}"


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning validation failures into one readable line per problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        raise SettingsError("; ".join(problems)) from None
