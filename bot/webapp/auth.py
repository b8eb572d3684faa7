"""Who is asking: Telegram's ``initData`` checked once, then a short session of our own.

``initData`` is signed by Telegram with a key derived from the bot's token; aiogram checks the
signature, and the rest is ours: a duplicated key (which ``dict()`` would silently collapse),
and the age. Telegram Desktop and iOS hand a Mini App cached ``initData`` a day old and more,
so the window is long (``WEBAPP_INITDATA_MAX_AGE``, a week by default): the session it opens
only reads, and every spend needs its own password or biometric proof.

The session is a signed token, not a row: any replica can check it, and it names one user
until it lapses. It travels in a header, so no cookie and no cross-site request forgery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from aiogram.utils.web_app import WebAppInitData, safe_parse_webapp_init_data

log = logging.getLogger(__name__)

SESSION_TTL = timedelta(minutes=15)
# Clocks differ a little; a date further ahead than this was not made by Telegram.
MAX_AHEAD = timedelta(minutes=5)
MAX_INIT_DATA = 8 * 1024  # Telegram's initData is about 1 KB


class Unauthorized(Exception):
    """The request does not prove who sent it; ``reason`` goes to the log, never to the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Viewer:
    """The Telegram user an ``initData`` names."""

    user_id: int
    first_name: str
    language_code: str | None


def check_init_data(
    token: str, init_data: str, *, now: datetime, max_age: timedelta
) -> WebAppInitData:
    """The parsed ``initData`` when Telegram signed it for this bot and it is fresh enough."""
    if not init_data or len(init_data) > MAX_INIT_DATA:
        raise Unauthorized("size")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise Unauthorized("malformed") from None
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise Unauthorized("duplicate_key")
    try:
        data = safe_parse_webapp_init_data(token, init_data)
    except ValueError:
        raise Unauthorized("signature") from None
    if data.user is None:
        raise Unauthorized("no_user")
    age = now - data.auth_date
    if age < -MAX_AHEAD:
        raise Unauthorized("from_the_future")
    if age > max_age:
        raise Unauthorized("too_old")
    log.info("event=webapp_init_data user_id=%s age_s=%d", data.user.id, age.total_seconds())
    return data


def viewer_of(data: WebAppInitData) -> Viewer:
    assert data.user is not None
    return Viewer(data.user.id, data.user.first_name, data.user.language_code)


class Sessions:
    """Session tokens: ``<user id>.<expiry, unix seconds>.<MAC>``, signed with a key derived
    from the bot's token (every replica has it; a new token ends every session). ``purpose``
    keeps tokens of one kind (a download's ticket) from passing as another (a session)."""

    def __init__(
        self, token: str, ttl: timedelta = SESSION_TTL, *, purpose: str = "session"
    ) -> None:
        label = f"GiftwalletWebApp:{purpose}".encode()
        self._key = hmac.new(label, token.encode(), hashlib.sha256).digest()
        self.ttl = ttl

    def issue(self, user_id: int, now: datetime) -> str:
        expires = int((now + self.ttl).timestamp())
        body = f"{user_id}.{expires}"
        return f"{body}.{self._mac(body)}"

    def user_of(self, session: str, now: datetime) -> int:
        """The user a live, genuine session names; raises Unauthorized otherwise."""
        body, _, mac = session.rpartition(".")
        user, _, expires = body.partition(".")
        if not (user.isdigit() and expires.isdigit() and len(session) <= 200):
            raise Unauthorized("session_malformed")
        if not hmac.compare_digest(mac, self._mac(body)):
            raise Unauthorized("session_signature")
        if int(expires) <= now.timestamp():
            raise Unauthorized("session_expired")
        return int(user)

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
