"""``initData`` as Telegram signs it for a Mini App (core.telegram.org/bots/webapps).

The fields, sorted by key and joined as ``key=value`` lines, are signed with HMAC-SHA256 under
the key ``HMAC-SHA256("WebAppData", bot token)``; the hex digest travels as ``hash``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode


def data_check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields))


def init_data_hash(token: str, check_string: str) -> str:
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()


def sign_init_data(token: str, fields: Mapping[str, str]) -> str:
    """A query string with every field and its ``hash``, in the order given."""
    signed = dict(fields)
    signed["hash"] = init_data_hash(token, data_check_string(fields))
    return urlencode(signed)


def init_data_for(
    token: str, user: Mapping[str, Any], auth_date: int, *, query_id: str = "AAH-playground"
) -> str:
    """What a client opening the Mini App from a private chat receives."""
    return sign_init_data(
        token,
        {
            "query_id": query_id,
            "user": json.dumps(dict(user), separators=(",", ":"), ensure_ascii=False),
            "auth_date": str(auth_date),
        },
    )
