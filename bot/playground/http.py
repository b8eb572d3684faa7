"""The playground's small HTTP vocabulary: JSON bodies, Telegram ids and error answers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.emulator import ApiError

MAX_BODY = 256 * 1024
ID_LIMIT = 2**52  # Telegram's user and chat ids fit in 52 bits


@web.middleware
async def api_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """The page gets a JSON reason for a bad request instead of a traceback."""
    if not request.path.startswith("/api/"):
        return await handler(request)  # type: ignore[no-any-return]
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except (ValueError, KeyError, ApiError) as exc:
        return error_response(str(exc))


def event_summary(event: dict[str, Any]) -> dict[str, Any]:
    """What the page needs to know to refresh: which chat changed, and any toast to show."""
    keep = (
        "type",
        "chat_id",
        "seq",
        "text",
        "show_alert",
        "callback_query_id",
        "message_id",
        "method",
        "error_code",
    )
    summary = {key: event[key] for key in keep if key in event}
    if "payment" in event:
        payment = event["payment"]
        summary["payment"] = {
            key: payment.get(key)
            for key in ("status", "error_message", "user_id", "total_amount", "currency")
        }
    return summary


async def read_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except web.HTTPRequestEntityTooLarge:
        raise ValueError(f"the body is larger than {MAX_BODY} bytes") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def telegram_id(value: Any) -> int:
    """An id as Telegram has them: an integer within 52 bits."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not a number: {str(value)[:40]!r}") from None
    if not -ID_LIMIT < number < ID_LIMIT:
        raise ValueError(f"not a Telegram id (more than 52 bits): {str(value)[:40]}")
    return number


def optional_id(value: Any) -> int | None:
    return None if value in (None, "") else telegram_id(value)


def header_safe(name: str) -> str:
    return "".join(ch for ch in name if ch.isprintable() and ch not in '"\\') or "file"


def error_response(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)
