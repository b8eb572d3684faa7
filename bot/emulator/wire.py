"""The Bot API wire format: parameters as aiogram sends them, errors as Telegram answers."""

from __future__ import annotations

import json
import mimetypes
import re
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

JSON = dict[str, Any]

TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
CALLBACK_DATA_LIMIT: Final = 64
CALLBACK_ANSWER_LIMIT: Final = 200
INVOICE_PAYLOAD_LIMIT: Final = 128
DELETE_WINDOW: Final = 48 * 3600
UPLOAD_LIMIT: Final = 64 * 1024 * 1024

QUERY_TOO_OLD: Final = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
# Telegram leaves these out unless allowed_updates names them explicitly.
OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
BUTTON_ACTIONS: Final = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
# Parameters that are plain strings even when they look like JSON ("123", "true", "{...}").
STRING_PARAMS: Final = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "description",
        "document",
        "emoji",
        "error_message",
        "file_id",
        "inline_message_id",
        "inline_query_id",
        "ip_address",
        "label",
        "language_code",
        "message_effect_id",
        "name",
        "next_offset",
        "parse_mode",
        "payload",
        "photo",
        "photo_url",
        "pre_checkout_query_id",
        "provider_data",
        "provider_token",
        "secret_token",
        "shipping_query_id",
        "start_parameter",
        "sticker",
        "switch_pm_parameter",
        "switch_pm_text",
        "telegram_payment_charge_id",
        "text",
        "title",
        "url",
    }
)
CHAT_ID_PARAMS: Final = frozenset({"chat_id", "from_chat_id"})
ADMIN_RIGHTS: Final = (
    "can_be_edited",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)
COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
COMMAND_PREFIX_RE: Final = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
ALNUM: Final = string.ascii_letters + string.digits


class ApiError(Exception):
    """An error answered to the bot as ``{"ok": false, ...}`` with an HTTP status."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


_Json = TypeVar("_Json")


def json_copy(value: _Json) -> _Json:
    """A deep copy of plain JSON data, several times faster than copy.deepcopy (tests profile
    the bot with the emulator in the same process, so its copies show up in the figures)."""
    copied: _Json = json.loads(json.dumps(value))
    return copied


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Args:
    """Decoded request parameters with Telegram-style validation errors."""

    values: JSON
    uploads: dict[str, Upload] = field(default_factory=dict)
    # Whether the client still waits for the answer (a long poll may outlive its client).
    connected: Callable[[], bool] = lambda: True

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def opt_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def req_int(self, name: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def opt_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def req_str(self, name: str) -> str:
        value = self.opt_str(name)
        if not value:
            raise bad_request(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def chat_ref(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value in (None, ""):
            raise bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return str(value)

    def structured(self, name: str) -> Any:
        """A nested object that may still be a JSON string (JSON bodies, query strings)."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


def decode_value(name: str, raw: str) -> Any:
    """aiogram sends every non-string value JSON-encoded in a form field; undo that per name."""
    if name in STRING_PARAMS:
        return raw
    if name in CHAT_ID_PARAMS:
        return int(raw) if re.fullmatch(r"-?\d+", raw) else raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def mime_type(upload: Upload) -> str:
    """Telegram guesses a document's type from its name when the client sends a generic one."""
    declared = upload.content_type or "application/octet-stream"
    if declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(upload.filename)
    return guessed or declared


def inline_markup(markup: JSON | None) -> JSON | None:
    """Only inline keyboards belong to a message (reply keyboards belong to the chat)."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def has_button(markup: JSON | None, callback_data: str) -> bool:
    inline = inline_markup(markup)
    if inline is None:
        return False
    return any(
        isinstance(button, dict) and button.get("callback_data") == callback_data
        for row in inline["inline_keyboard"]
        for button in row
    )


ApiMethod = Callable[[Args], Awaitable[Any]]
