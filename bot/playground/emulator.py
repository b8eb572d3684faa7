"""A fake Telegram Bot API server that keeps per-chat state.

The end-to-end tests point the real bot at it (``TelegramAPIServer.from_base(base_url)``) and the
browser playground mounts its routes and listens to its event feed. It behaves like Telegram where
a bot can tell the difference: Telegram-shaped JSON, multipart requests, long polling with offset
confirmation and redelivery, the usual 400/403/429 errors, and the Stars payment flow.

Everything lives on one instance and one event loop; there is no global state.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import json
import logging
import mimetypes
import re
import secrets
import string
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web

JSON = dict[str, Any]

log = logging.getLogger(__name__)

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
_OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_BUTTON_ACTIONS: Final = frozenset(
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
_STRING_PARAMS: Final = frozenset(
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
_CHAT_ID_PARAMS: Final = frozenset({"chat_id", "from_chat_id"})
_ADMIN_RIGHTS: Final = (
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
_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")
_COMMAND_PREFIX_RE: Final = re.compile(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_ALNUM: Final = string.ascii_letters + string.digits


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


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(eq=False)  # a mutable record: compared by identity
class Call:
    """One recorded Bot API request.

    Calls are recorded when their answer is decided, except getUpdates, which is recorded when it
    arrives (so "the bot is polling" is observable at once) and completed when it returns.
    """

    method: str
    params: JSON
    time: float
    index: int = -1  # set when recorded
    ok: bool = False
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    done: bool = False

    @property
    def error(self) -> str | None:
        return self.description if not self.ok else None


@dataclass(frozen=True)
class PaymentOutcome:
    """What happened to one ``pay_invoice``: the bot's pre-checkout answer and the charge."""

    ok: bool
    status: str  # "paid", "declined" (ok=false answer) or "expired" (no answer in time)
    pre_checkout_query_id: str
    error_message: str | None = None
    telegram_payment_charge_id: str | None = None
    provider_payment_charge_id: str | None = None
    message_id: int | None = None  # the successful_payment message


@dataclass
class _Fault:
    error: ApiError
    remaining: int


@dataclass(frozen=True)
class _Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str
    mime_type: str
    data: bytes

    def public(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


@dataclass
class _Args:
    """Decoded request parameters with Telegram-style validation errors."""

    values: JSON
    uploads: dict[str, _Upload] = field(default_factory=dict)
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
            raise _bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except ValueError:
            raise _bad_request(f"invalid {name} specified") from None

    def req_int(self, name: str) -> int:
        value = self.opt_int(name)
        if value is None:
            raise _bad_request(f"{name} is empty")
        return value

    def opt_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def req_str(self, name: str) -> str:
        value = self.opt_str(name)
        if not value:
            raise _bad_request(f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def chat_ref(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value in (None, ""):
            raise _bad_request(f"{name} is empty")
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
                raise _bad_request(f"can't parse {name} JSON object") from None
        return value


def _decode_value(name: str, raw: str) -> Any:
    """aiogram sends every non-string value JSON-encoded in a form field; undo that per name."""
    if name in _STRING_PARAMS:
        return raw
    if name in _CHAT_ID_PARAMS:
        return int(raw) if re.fullmatch(r"-?\d+", raw) else raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    """Telegram's HTML parse mode: plain text plus entities, or a "can't parse entities" error."""

    _SIMPLE: Final = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "code": "code",
        "pre": "pre",
    }
    _OTHER: Final = frozenset({"a", "span", "blockquote", "tg-emoji"})

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, JSON | None]] = []
        self.entities: list[JSON] = []
        self._line_starts = [0]
        for match in re.finditer("\n", source):
            self._line_starts.append(match.end())

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        return len(self.source[: self._line_starts[line - 1] + column].encode())

    def _fail(self, detail: str) -> ApiError:
        return _bad_request(f"can't parse entities: {detail}")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += _u16(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        unsupported = f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
        if tag not in self._SIMPLE and tag not in self._OTHER:
            raise self._fail(unsupported)
        extra: JSON = {}
        if tag in self._SIMPLE:
            kind: str | None = self._SIMPLE[tag]
            language = attributes.get("class", "")
            pre = self.stack[-1][1] if self.stack and self.stack[-1][0] == "pre" else None
            if tag == "code" and pre is not None and language.startswith("language-"):
                # <pre><code class="language-x"> is one pre entity with a language.
                pre["language"] = language.removeprefix("language-")
                kind = None
        elif tag == "a":
            href = attributes.get("href", "")
            kind, extra = ("text_link", {"url": href}) if href else (None, {})
        elif tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise self._fail(unsupported)
            kind = "spoiler"
        elif tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
        else:  # tg-emoji
            kind, extra = "custom_emoji", {"custom_emoji_id": attributes.get("emoji-id", "")}
        entity = None if kind is None else {"type": kind, "offset": self.length} | extra
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        open_tag, entity = self.stack.pop()
        if open_tag != tag:
            raise self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
        if entity is not None:
            entity["length"] = self.length - entity["offset"]
            if entity["length"] > 0:  # Telegram drops empty entities
                self.entities.append(entity)

    def handle_comment(self, data: str) -> None:
        raise self._fail(f'Unsupported start tag "!--" at byte offset {self._byte_offset()}')

    def parse(self) -> tuple[str, list[JSON]]:
        self.feed(self.source)
        self.close()
        if self.stack:
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), [
            {"type": e["type"], "offset": e["offset"], "length": e["length"]}
            | {k: v for k, v in e.items() if k not in ("type", "offset", "length")}
            for e in ordered
        ]


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Plain text and entities of a parse_mode="HTML" text; raises ApiError like Telegram."""
    return _TelegramHTML(source).parse()


def _mime_type(upload: _Upload) -> str:
    """Telegram guesses a document's type from its name when the client sends a generic one."""
    declared = upload.content_type or "application/octet-stream"
    if declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(upload.filename)
    return guessed or declared


def _inline_markup(markup: JSON | None) -> JSON | None:
    """Only inline keyboards belong to a message (reply keyboards belong to the chat)."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def _has_button(markup: JSON | None, callback_data: str) -> bool:
    inline = _inline_markup(markup)
    if inline is None:
        return False
    return any(
        isinstance(button, dict) and button.get("callback_data") == callback_data
        for row in inline["inline_keyboard"]
        for button in row
    )


_ApiMethod = Callable[[_Args], Awaitable[Any]]


class BotAPIEmulator:
    """A Bot API server with users, chats, messages, callback/inline queries and Stars payments."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-token-for-the-fake-bot-api-server",
        bot_username: str = "giftwallet_bot",
        bot_first_name: str = "Giftwallet",
        latency: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.latency = latency
        self.clock = clock

        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = False

        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._members: dict[int, set[int]] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, list[JSON]] = {}
        self._next_message_id: dict[int, int] = {}
        self._callbacks: dict[str, JSON] = {}
        self._inline_queries: dict[str, JSON] = {}
        self._payments: dict[str, JSON] = {}  # by pre_checkout_query_id
        self._checkouts: dict[str, asyncio.Future[tuple[bool, str | None]]] = {}
        self._invoice_links: dict[str, JSON] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._menu_buttons: dict[int | None, JSON] = {}
        self._webhook: JSON = {"url": ""}
        self._serial = 0

        self._updates: list[JSON] = []  # unconfirmed, in update_id order
        self._update_log: dict[int, JSON] = {}
        self._deliveries: dict[int, int] = {}
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._updates_changed = asyncio.Condition()

        self._calls: list[Call] = []
        self._calls_changed = asyncio.Condition()
        self._faults: dict[str, list[_Fault]] = {}
        self._page_faults: dict[str, int] = {}
        self._page_status = 502
        self._duplicate_payments = 0

        self._subscribers: set[asyncio.Queue[JSON]] = set()
        self._event_seq = 0

        self._methods: dict[str, _ApiMethod] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "sendInvoice": self._send_invoice,
            "createInvoiceLink": self._create_invoice_link,
            "answerPreCheckoutQuery": self._answer_pre_checkout_query,
            "refundStarPayment": self._refund_star_payment,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
            "answerInlineQuery": self._answer_inline_query,
            "sendChatAction": self._send_chat_action,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }
        # Telegram method names are case-insensitive.
        self._method_names = {name.lower(): name for name in self._methods}

    # ------------------------------------------------------------------ server lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on host:port; port 0 picks a free port (see ``base_url``)."""
        # A short shutdown timeout: long polls are woken on stop, nothing else lingers.
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self._base_url = f"http://{host}:{bound_port}"

    async def stop(self) -> None:
        self._closing = True
        async with self._updates_changed:
            self._updates_changed.notify_all()
        for future in self._checkouts.values():
            future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """The URL for ``TelegramAPIServer.from_base``."""
        if self._base_url is None:
            msg = "the emulator is not serving: call start() or set base_url after add_routes()"
            raise RuntimeError(msg)
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        # When the routes are mounted in another app, that app knows where it listens.
        self._base_url = value.rstrip("/")

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        self.add_routes(app)
        return app

    def add_routes(self, app: web.Application, *, prefix: str = "") -> None:
        """Mount the Bot API under ``prefix`` (the bot then uses base_url + prefix)."""
        app.router.add_route("*", prefix + "/bot{token}/{method}", self._handle_api)
        app.router.add_get(prefix + "/file/bot{token}/{path:.+}", self._handle_file)

    def file_url(self, file_id: str) -> str:
        """Where a stored file is downloadable (what the bot gets via getFile + file URL)."""
        stored = self._files[file_id]
        return f"{self.base_url}/file/bot{self.token}/{stored.file_path}"

    def download(self, file_id: str) -> tuple[bytes, str, str] | None:
        """(content, mime type, file name) of a stored file, for the playground's page."""
        stored = self._files.get(file_id)
        return None if stored is None else (stored.data, stored.mime_type, stored.file_name)

    # ------------------------------------------------------------------ users and chats

    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str = "en",
        username: str | None = None,
    ) -> JSON:
        """Create or update a user and their private chat with the bot."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        user["language_code"] = language_code
        self._users[user_id] = user
        chat: JSON = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        self._chats[user_id] = chat
        self._messages.setdefault(user_id, [])
        return copy.deepcopy(user)

    def add_group_chat(
        self,
        chat_id: int,
        title: str,
        *,
        members: Iterable[int] = (),
        chat_type: str = "supergroup",
    ) -> JSON:
        """A group (e.g. the operators' chat) where the bot posts and users can reply."""
        chat: JSON = {"id": chat_id, "type": chat_type, "title": title}
        self._chats[chat_id] = chat
        self._members.setdefault(chat_id, set()).update(members)
        self._messages.setdefault(chat_id, [])
        return copy.deepcopy(chat)

    def users(self) -> list[JSON]:
        return [copy.deepcopy(user) for user in self._users.values()]

    def chats(self) -> list[JSON]:
        return [copy.deepcopy(chat) for chat in self._chats.values()]

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sending to their chat answers 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def is_blocked(self, user_id: int) -> bool:
        return user_id in self._blocked

    def _ensure_user(self, user_id: int) -> JSON:
        if user_id not in self._users:
            self.add_user(user_id, f"User {user_id}")
        return self._users[user_id]

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _user_json(self, user_id: int) -> JSON:
        if user_id == self.bot_id:
            return self._bot_user()
        return copy.deepcopy(self._ensure_user(user_id))

    def _injection_chat(self, user_id: int, chat_id: int | None) -> int:
        self._ensure_user(user_id)
        target = user_id if chat_id is None else chat_id
        if target not in self._chats:
            msg = f"unknown chat {target}: add it with add_group_chat()"
            raise ValueError(msg)
        if target != user_id:
            self._members.setdefault(target, set()).add(user_id)
        return target

    # ------------------------------------------------------------------ recorded state

    def messages(self, chat_id: int, include_deleted: bool = False) -> list[JSON]:
        """The chat's message records, oldest first (see ``_new_record`` for the shape)."""
        return [
            copy.deepcopy(record)
            for record in self._messages.get(chat_id, [])
            if include_deleted or not record["deleted"]
        ]

    def last_message(self, chat_id: int) -> JSON | None:
        current = self.messages(chat_id)
        return current[-1] if current else None

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        record = self._find_message(chat_id, message_id)
        return copy.deepcopy(record) if record is not None else None

    def snapshot(self, chat_id: int) -> list[JSON]:
        """The chat's current messages, JSON-serializable, for a page that (re)connects."""
        return self.messages(chat_id)

    def callback_query(self, query_id: str) -> JSON | None:
        record = self._callbacks.get(query_id)
        return copy.deepcopy(record) if record is not None else None

    def inline_query(self, query_id: str) -> JSON | None:
        record = self._inline_queries.get(query_id)
        return copy.deepcopy(record) if record is not None else None

    def payments(self) -> list[JSON]:
        return [copy.deepcopy(payment) for payment in self._payments.values()]

    def commands(self, scope: JSON | None = None, language_code: str | None = None) -> list[JSON]:
        key = (self._scope_key(scope), language_code or "")
        return copy.deepcopy(self._commands.get(key, []))

    def webhook(self) -> JSON:
        return copy.deepcopy(self._webhook)

    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    def deliveries(self, update_id: int) -> int:
        """How many getUpdates responses carried this update."""
        return self._deliveries.get(update_id, 0)

    def update_log(self) -> list[JSON]:
        """Every update ever queued (confirmed or not), in order."""
        return [copy.deepcopy(update) for update in self._update_log.values()]

    # ------------------------------------------------------------------ calls

    def calls(self, method: str | None = None) -> list[Call]:
        if method is None:
            return list(self._calls)
        name = self._canonical(method)
        return [call for call in self._calls if call.method == name]

    def call_count(self) -> int:
        """The index the next recorded call will get: a mark for ``wait_for_call(after=...)``."""
        return len(self._calls)

    async def wait_until_polling(
        self, bot_task: asyncio.Task[Any], *, after: int = 0, limit: float = 30.0
    ) -> None:
        """Wait for the bot's first getUpdates (it has migrated and published its commands).

        If the bot's task ends first, its start-up failure is raised here instead.
        """
        waiter = asyncio.ensure_future(self.wait_for_call("getUpdates", after=after, timeout=limit))
        done, _ = await asyncio.wait({waiter, bot_task}, return_when=asyncio.FIRST_COMPLETED)
        if bot_task in done:
            waiter.cancel()
            bot_task.result()
            msg = "the bot stopped before it started polling"
            raise RuntimeError(msg)
        waiter.result()

    async def wait_until_confirmed(self, limit: float = 30.0) -> None:
        """Wait until the bot has confirmed every queued update (by polling past it)."""
        while self._updates:
            await self.wait_for_call("getUpdates", after=len(self._calls), timeout=limit)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 -- a plain deadline reads best in tests
        after: int = 0,
    ) -> Call:
        """The first call of ``method`` with index >= ``after`` that matches ``predicate``."""
        name = self._canonical(method)

        def find() -> Call | None:
            for call in self._calls[after:]:
                if call.method == name and (predicate is None or predicate(call)):
                    return call
            return None

        async with self._calls_changed:
            try:
                await asyncio.wait_for(
                    self._calls_changed.wait_for(lambda: find() is not None), timeout
                )
            except TimeoutError:
                recent = ", ".join(
                    f"#{c.index} {c.method}{'' if c.ok else f' ({c.error_code})'}"
                    for c in self._calls[max(after, len(self._calls) - 15) :]
                )
                msg = f"no matching {name} call from #{after} within {timeout}s; since: {recent}"
                raise TimeoutError(msg) from None
        found = find()
        assert found is not None
        return found

    def _canonical(self, method: str) -> str:
        return self._method_names.get(method.lower(), method)

    async def _record(self, call: Call) -> None:
        if call.index < 0:
            call.index = len(self._calls)
            self._calls.append(call)
        async with self._calls_changed:
            self._calls_changed.notify_all()

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = 1,
        count: int = 1,
    ) -> None:
        """The next ``count`` calls of ``method`` fail with this error instead of running.

        The default is flood control: 429 "Too Many Requests: retry after N" with retry_after=N.
        """
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else f"Error {error_code}"
            )
        error = ApiError(error_code, description, retry_after=retry_after)
        self._faults.setdefault(method.lower(), []).append(_Fault(error, count))

    def fail_next_with_page(self, method: str, *, status: int = 502, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` get an HTML error page, as a proxy in front of
        the Bot API sends when the server behind it is down: not JSON at all."""
        self._page_faults[method.lower()] = self._page_faults.get(method.lower(), 0) + count
        self._page_status = status

    def duplicate_next_payment(self) -> None:
        """The next successful_payment is delivered twice with the same charge id."""
        self._duplicate_payments += 1

    def _take_fault(self, method: str) -> ApiError | None:
        faults = self._faults.get(method.lower())
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
        return fault.error

    # ------------------------------------------------------------------ event feed

    def subscribe(self) -> asyncio.Queue[JSON]:
        """A queue of JSON-serializable events (each with "type", "chat_id", "seq", "time")."""
        queue: asyncio.Queue[JSON] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JSON]) -> None:
        self._subscribers.discard(queue)

    def _publish(self, kind: str, chat_id: int | None, **fields: Any) -> None:
        self._event_seq += 1
        event: JSON = {"type": kind, "chat_id": chat_id, "seq": self._event_seq}
        event["time"] = self.clock()
        event.update(fields)
        for queue in self._subscribers:
            # A copy per subscriber: records keep changing after the event.
            queue.put_nowait(copy.deepcopy(event))

    # ------------------------------------------------------------------ injection: updates

    async def send_raw_update(self, update: JSON) -> JSON:
        """Queue any update as given; its update_id is assigned here."""
        body = copy.deepcopy(update)
        body.pop("update_id", None)
        return await self._enqueue(body)

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        reply_to_message_id: int | None = None,
        chat_id: int | None = None,
    ) -> JSON:
        """A user's text message; returns its record ("update_id" says which update carried it)."""
        chat = self._injection_chat(user_id, chat_id)
        entities: list[JSON] = []
        command = _COMMAND_PREFIX_RE.match(text)
        if command is not None:
            # Clients mark a leading command, and aiogram's Command filter relies on it.
            entities.append({"type": "bot_command", "offset": 0, "length": _u16(command.group())})
        if (
            reply_to_message_id is not None
            and self._live_message(chat, reply_to_message_id) is None
        ):
            msg = f"message {reply_to_message_id} not found in chat {chat}"
            raise ValueError(msg)
        record = self._new_record(
            chat,
            sender_id=user_id,
            kind="text",
            text=text,
            html=html.escape(text, quote=False),
            entities=entities,
            reply_to_message_id=reply_to_message_id,
        )
        return await self._deliver_user_message(record)

    async def press_button(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> str:
        """Tap an inline button that exists on the message; returns the callback query id."""
        chat = self._injection_chat(user_id, chat_id)
        record = self._live_message(chat, message_id)
        if record is None:
            msg = f"message {message_id} not found in chat {chat}"
            raise ValueError(msg)
        if not _has_button(record["reply_markup"], callback_data):
            msg = f"message {message_id} has no button with callback_data {callback_data!r}"
            raise ValueError(msg)
        return await self._callback(user_id, chat, message_id, callback_data)

    async def send_callback(
        self, user_id: int, data: str, message_id: int, *, chat_id: int | None = None
    ) -> str:
        """A callback query with arbitrary (possibly forged) data, unchecked against buttons."""
        chat = self._injection_chat(user_id, chat_id)
        return await self._callback(user_id, chat, message_id, data)

    async def _callback(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        query_id = self._new_query_id()
        record = self._find_message(chat_id, message_id)
        if record is not None and not record["deleted"]:
            message = self._message_json(record)
        else:
            # What Telegram sends for a message the bot can no longer access.
            message = {"chat": self._chat_json(chat_id), "message_id": message_id, "date": 0}
        self._callbacks[query_id] = {
            "id": query_id,
            "user_id": user_id,
            "chat_id": chat_id,
            "message_id": message_id,
            "data": data,
            "answered": False,
            "text": None,
            "show_alert": False,
            "url": None,
        }
        await self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user_json(user_id),
                    "message": message,
                    "chat_instance": f"{chat_id * 7 + 1}",
                    "data": data,
                }
            }
        )
        return query_id

    async def send_inline_query(self, user_id: int, query: str, *, offset: str = "") -> str:
        """A user types ``@bot query``; returns the inline query id."""
        self._ensure_user(user_id)
        query_id = self._new_query_id()
        self._inline_queries[query_id] = {
            "id": query_id,
            "user_id": user_id,
            "query": query,
            "offset": offset,
            "answered": False,
            "results": None,
            "cache_time": None,
            "is_personal": False,
            "next_offset": None,
            "button": None,
        }
        body = {"id": query_id, "from": self._user_json(user_id), "query": query, "offset": offset}
        body["chat_type"] = "sender"
        await self._enqueue({"inline_query": body})
        return query_id

    async def send_inline_result(
        self, user_id: int, chat_id: int, query_id: str, result_id: str
    ) -> JSON:
        """The user picks an inline result: it is posted in the chat "via @bot", as Telegram does.

        Only article results with text content are supported. No update reaches the bot, since
        Telegram sends chosen_inline_result only when inline feedback is enabled.
        """
        query = self._inline_queries.get(query_id)
        if query is None or query["user_id"] != user_id or not query["answered"]:
            msg = f"no answered inline query {query_id} of user {user_id}"
            raise ValueError(msg)
        result = next((r for r in query["results"] or [] if r.get("id") == result_id), None)
        content = (result or {}).get("input_message_content") or {}
        if "message_text" not in content:
            msg = f"inline result {result_id!r} has no text to send"
            raise ValueError(msg)
        chat = self._injection_chat(user_id, chat_id)
        source = str(content["message_text"])
        if content.get("parse_mode") == "HTML":
            text, entities = parse_html(source)
            shown = source
        else:
            text, entities, shown = source, [], html.escape(source, quote=False)
        record = self._new_record(
            chat,
            sender_id=user_id,
            kind="text",
            text=text,
            html=shown,
            entities=entities,
            via_bot=self.bot_username,
            reply_markup=_inline_markup(result.get("reply_markup") if result else None),
        )
        self._publish("message_new", chat, message=record)
        return copy.deepcopy(record)

    def effective_commands(self, chat_id: int, language_code: str | None) -> list[JSON]:
        """The command menu a client shows in this chat: the most specific scope that is set."""
        chat_scope = self._scope_key({"type": "chat", "chat_id": chat_id})
        default_scope = self._scope_key({"type": "default"})
        private_scope = self._scope_key({"type": "all_private_chats"})
        for scope in (chat_scope, private_scope, default_scope):
            for language in (language_code or "", ""):
                commands = self._commands.get((scope, language))
                if commands:
                    return copy.deepcopy(commands)
        return []

    def reply_keyboard(self, chat_id: int) -> JSON | None:
        """The reply keyboard the chat shows now: the last one sent, unless removed since."""
        for record in reversed(self._messages.get(chat_id, [])):
            markup = record["reply_markup"]
            if not record["from_bot"] or markup is None or "inline_keyboard" in markup:
                continue
            return None if markup.get("remove_keyboard") else copy.deepcopy(markup)
        return None

    async def pay_invoice(
        self,
        user_id: int,
        message_id: int,
        *,
        chat_id: int | None = None,
        answer_timeout: float = 10.0,
    ) -> PaymentOutcome:
        """Pay the invoice in this message: pre_checkout_query, the bot's answer, then the charge.

        Waits up to ``answer_timeout`` seconds for answerPreCheckoutQuery (Telegram allows 10 s).
        """
        chat = self._injection_chat(user_id, chat_id)
        record = self._live_message(chat, message_id)
        if record is None or record["invoice"] is None:
            msg = f"no invoice message {message_id} in chat {chat}"
            raise ValueError(msg)
        return await self._pay(user_id, chat, record["invoice"], message_id, answer_timeout)

    async def pay_invoice_link(
        self, user_id: int, link: str, *, answer_timeout: float = 10.0
    ) -> PaymentOutcome:
        """Pay an invoice created with createInvoiceLink (paid from the user's private chat)."""
        invoice = self._invoice_links.get(link.rsplit("$", 1)[-1])
        if invoice is None:
            msg = f"unknown invoice link {link!r}"
            raise ValueError(msg)
        chat = self._injection_chat(user_id, None)
        return await self._pay(user_id, chat, invoice, None, answer_timeout)

    async def _pay(
        self,
        user_id: int,
        chat_id: int,
        invoice: JSON,
        invoice_message_id: int | None,
        answer_timeout: float,
    ) -> PaymentOutcome:
        query_id = self._new_query_id()
        payment: JSON = {
            "pre_checkout_query_id": query_id,
            "user_id": user_id,
            "chat_id": chat_id,
            "invoice_message_id": invoice_message_id,
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice["payload"],
            "status": "pending",
            "error_message": None,
            "telegram_payment_charge_id": None,
            "provider_payment_charge_id": None,
            "message_id": None,
            "refunded": False,
        }
        self._payments[query_id] = payment
        answer: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        self._checkouts[query_id] = answer
        await self._enqueue(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": self._user_json(user_id),
                    "currency": invoice["currency"],
                    "total_amount": invoice["total_amount"],
                    "invoice_payload": invoice["payload"],
                }
            }
        )
        try:
            ok, error_message = await asyncio.wait_for(answer, answer_timeout)
        except TimeoutError:
            ok, error_message = False, None
            payment["status"] = "expired"
        finally:
            # A late answer finds no waiter and gets "query is too old", as on Telegram.
            self._checkouts.pop(query_id, None)
        if not ok:
            if payment["status"] == "pending":
                payment["status"] = "declined"
            payment["error_message"] = error_message
            self._publish("payment", chat_id, payment=payment)
            return PaymentOutcome(False, payment["status"], query_id, error_message)
        return await self._charge(payment, chat_id)

    async def _charge(self, payment: JSON, chat_id: int) -> PaymentOutcome:
        self._serial += 1
        charge_id = "stx" + "".join(secrets.choice(_ALNUM) for _ in range(40))
        provider_charge_id = (
            f"{payment['user_id']}_{self._serial}"
            if payment["currency"] == "XTR"
            else f"prov_{secrets.token_hex(12)}"
        )
        payment.update(
            status="paid",
            telegram_payment_charge_id=charge_id,
            provider_payment_charge_id=provider_charge_id,
        )
        success = {
            "currency": payment["currency"],
            "total_amount": payment["total_amount"],
            "invoice_payload": payment["invoice_payload"],
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": provider_charge_id,
        }
        copies = 1
        if self._duplicate_payments > 0:
            self._duplicate_payments -= 1
            copies = 2  # Telegram occasionally delivers the same payment twice.
        first: JSON | None = None
        for _ in range(copies):
            record = self._new_record(
                chat_id,
                sender_id=payment["user_id"],
                kind="successful_payment",
                successful_payment=dict(success),
            )
            delivered = await self._deliver_user_message(record)
            first = first or delivered
        assert first is not None
        payment["message_id"] = first["message_id"]
        self._publish("payment", chat_id, payment=payment)
        return PaymentOutcome(
            True,
            "paid",
            payment["pre_checkout_query_id"],
            None,
            charge_id,
            provider_charge_id,
            first["message_id"],
        )

    async def refund_payment_update(self, user_id: int, charge_id: str) -> JSON:
        """Telegram reports a refund (e.g. after a dispute): a message with refunded_payment."""
        payment = self._payment_by_charge(user_id, charge_id)
        if payment is None:
            msg = f"no payment {charge_id!r} by user {user_id}"
            raise ValueError(msg)
        payment.update(refunded=True, status="refunded")
        record = self._new_record(
            payment["chat_id"],
            sender_id=user_id,
            kind="refunded_payment",
            refunded_payment={
                "currency": payment["currency"],
                "total_amount": payment["total_amount"],
                "invoice_payload": payment["invoice_payload"],
                "telegram_payment_charge_id": charge_id,
                "provider_payment_charge_id": payment["provider_payment_charge_id"],
            },
        )
        delivered = await self._deliver_user_message(record)
        self._publish("payment", payment["chat_id"], payment=payment)
        return delivered

    def _payment_by_charge(self, user_id: int, charge_id: str) -> JSON | None:
        for payment in self._payments.values():
            if payment["telegram_payment_charge_id"] == charge_id and payment["user_id"] == user_id:
                return payment
        return None

    async def _deliver_user_message(self, record: JSON) -> JSON:
        update = await self._enqueue({"message": self._message_json(record)})
        record["update_id"] = update["update_id"]
        self._publish("message_new", record["chat_id"], message=record)
        return copy.deepcopy(record)

    async def _enqueue(self, body: JSON) -> JSON:
        update: JSON = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self._updates.append(update)
        self._update_log[update["update_id"]] = update
        self._deliveries[update["update_id"]] = 0
        async with self._updates_changed:
            self._updates_changed.notify_all()
        return copy.deepcopy(update)

    def _new_query_id(self) -> str:
        # Telegram query ids are long numeric strings; a counter keeps failures readable.
        self._serial += 1
        return str(4_000_000_000_000_000_000 + self._serial)

    # ------------------------------------------------------------------ message records

    def _new_record(self, chat_id: int, *, sender_id: int, kind: str, **content: Any) -> JSON:
        """Store a message. Every record has the same keys, so a page can rely on them."""
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        record: JSON = {
            "chat_id": chat_id,
            "message_id": message_id,
            "date": int(self.clock()),
            "from_bot": sender_id == self.bot_id,
            "sender_id": sender_id,
            "kind": kind,  # text, document, photo, invoice, successful_payment, refunded_payment
            "text": None,  # plain text, as Telegram stores it (tags stripped, unescaped)
            "html": None,  # the text as HTML: what the bot sent with parse_mode=HTML, else escaped
            "entities": [],
            "caption": None,
            "caption_html": None,
            "caption_entities": [],
            "reply_markup": None,
            "reply_to_message_id": None,
            "edit_count": 0,
            "edit_date": None,
            "deleted": False,
            "document": None,
            "photo": None,
            "invoice": None,
            "successful_payment": None,
            "refunded_payment": None,
            "forward_origin": None,
            "via_bot": None,  # the bot's username when the user sent an inline result
            "update_id": None,
        }
        record.update(content)
        self._messages.setdefault(chat_id, []).append(record)
        return record

    def _find_message(self, chat_id: int, message_id: int) -> JSON | None:
        for record in self._messages.get(chat_id, []):
            if record["message_id"] == message_id:
                return record
        return None

    def _live_message(self, chat_id: int, message_id: int) -> JSON | None:
        record = self._find_message(chat_id, message_id)
        return None if record is None or record["deleted"] else record

    def _chat_json(self, chat_id: int) -> JSON:
        return copy.deepcopy(self._chats.get(chat_id, {"id": chat_id, "type": "private"}))

    def _message_json(self, record: JSON, *, nested: bool = False) -> JSON:
        """The Telegram Message object of a record (no private keys such as "html")."""
        message: JSON = {
            "message_id": record["message_id"],
            "from": self._user_json(record["sender_id"]),
            "chat": self._chat_json(record["chat_id"]),
            "date": record["date"],
        }
        if record["edit_date"] is not None:
            message["edit_date"] = record["edit_date"]
        if record["forward_origin"] is not None:
            message["forward_origin"] = record["forward_origin"]
        if not nested and record["reply_to_message_id"] is not None:
            target = self._find_message(record["chat_id"], record["reply_to_message_id"])
            if target is not None:
                message["reply_to_message"] = self._message_json(target, nested=True)
        if record["text"] is not None:
            message["text"] = record["text"]
            if record["entities"]:
                message["entities"] = record["entities"]
        if record["document"] is not None:
            doc = record["document"]
            message["document"] = {k: v for k, v in doc.items() if k != "file_path"}
        if record["photo"] is not None:
            message["photo"] = [
                {k: v for k, v in size.items() if k != "file_path"} for size in record["photo"]
            ]
        if record["caption"] is not None:
            message["caption"] = record["caption"]
            if record["caption_entities"]:
                message["caption_entities"] = record["caption_entities"]
        if record["invoice"] is not None:
            public = ("title", "description", "start_parameter", "currency", "total_amount")
            message["invoice"] = {key: record["invoice"][key] for key in public}
        for key in ("successful_payment", "refunded_payment"):
            if record[key] is not None:
                message[key] = record[key]
        inline = _inline_markup(record["reply_markup"])
        if inline is not None:
            message["reply_markup"] = inline
        return copy.deepcopy(message)

    # ------------------------------------------------------------------ HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        name = self._canonical(request.match_info["method"])
        try:
            args = await self._read_args(request)
        except ApiError as error:
            return await self._finish(Call(name, {}, self.clock()), error=error)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        call = Call(name, args.values, self.clock())
        if self._page_faults.get(name.lower()):
            self._page_faults[name.lower()] -= 1
            call.ok, call.error_code, call.description = False, self._page_status, "HTML page"
            call.done = True
            await self._record(call)
            page = f"<html><body><h1>{self._page_status} Bad Gateway</h1></body></html>"
            return web.Response(text=page, status=self._page_status, content_type="text/html")
        handler = self._methods.get(name)
        if handler is None:
            return await self._finish(call, error=ApiError(404, "Not Found: method not found"))
        fault = self._take_fault(name)
        if fault is not None:
            return await self._finish(call, error=fault)
        if name == "getUpdates":
            # Recorded on arrival: tests wait for "the bot is polling" without a full long poll.
            await self._record(call)
        try:
            result = await handler(args)
        except ApiError as error:
            return await self._finish(call, error=error)
        except Exception as exc:
            # An emulator bug: answer in Telegram's shape so the bot reports it, and log it.
            log.exception("event=emulator_error method=%s", name)
            failure = ApiError(500, f"Internal Server Error: {type(exc).__name__}: {exc}")
            return await self._finish(call, error=failure)
        return await self._finish(call, result=result)

    async def _finish(
        self, call: Call, *, result: Any = None, error: ApiError | None = None
    ) -> web.Response:
        if error is None:
            call.ok, call.result = True, result
            body: JSON = {"ok": True, "result": result}
            status = 200
        else:
            call.ok, call.error_code, call.description = False, error.error_code, error.description
            body, status = error.body(), error.error_code
        call.done = True
        await self._record(call)
        return web.json_response(body, status=status)

    async def _read_args(self, request: web.Request) -> _Args:
        """Query string, then the body: multipart/urlencoded form or JSON."""
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad_request("can't parse JSON body") from None
                if not isinstance(body, dict):
                    raise _bad_request("JSON body must be an object")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        data = value.file.read()
                        uploads[key] = _Upload(value.filename, value.content_type, data)
                        raw[key] = f"attach://{key}"  # a file sent directly in its field
                    else:
                        raw[key] = value
        values = {
            key: _decode_value(key, value) if isinstance(value, str) else value
            for key, value in raw.items()
        }

        def connected() -> bool:
            return request.transport is not None and not request.transport.is_closing()

        return _Args(values, uploads, connected)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type=stored.mime_type)

    # ------------------------------------------------------------------ getUpdates

    async def _get_updates(self, args: _Args) -> list[JSON]:
        if self._webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = args.opt_int("offset") or 0
        limit = min(max(args.opt_int("limit") or 100, 1), 100)
        timeout = max(args.opt_int("timeout") or 0, 0)
        allowed = args.structured("allowed_updates")
        if isinstance(allowed, list):
            # Telegram remembers the last allowed_updates; an empty list means the default.
            self._allowed_updates = frozenset(map(str, allowed)) or None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._updates_changed:
            self._updates_changed.notify_all()  # an older long poll ends with 409
            if timeout and not self._select(offset, limit):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._updates_changed.wait_for(
                            lambda: (
                                self._closing
                                or generation != self._poll_generation
                                or bool(self._select(offset, limit))
                            )
                        ),
                        timeout,
                    )
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
        batch = self._select(offset, limit)
        # Updates sent to a client that already hung up were not delivered.
        if args.connected():
            for update in batch:
                self._deliveries[update["update_id"]] += 1
        return copy.deepcopy(batch)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            # A negative offset keeps only the last -offset updates, as on Telegram.
            self._updates = self._updates[offset:]

    def _select(self, offset: int, limit: int) -> list[JSON]:
        allowed = self._allowed_updates
        if allowed is not None or any(self._kind(u) in _OPT_IN_UPDATES for u in self._updates):
            # Telegram never stores updates of kinds the bot did not ask for.
            self._updates = [u for u in self._updates if self._is_allowed(u)]
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    @staticmethod
    def _kind(update: JSON) -> str:
        return next((key for key in update if key != "update_id"), "")

    def _is_allowed(self, update: JSON) -> bool:
        kind = self._kind(update)
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    # ------------------------------------------------------------------ API: bot and webhook

    async def _get_me(self, args: _Args) -> JSON:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _delete_webhook(self, args: _Args) -> bool:
        self._webhook = {"url": ""}
        if args.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, args: _Args) -> bool:
        url = args.opt_str("url") or ""
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost")
        if url and not (parts.scheme == "https" or (parts.scheme == "http" and local)):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {"url": url}
        for key in ("max_connections", "allowed_updates", "secret_token"):
            if args.has(key):
                self._webhook[key] = args.get(key)
        if args.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, args: _Args) -> JSON:
        info: JSON = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        for key in ("max_connections", "allowed_updates"):
            if key in self._webhook:
                info[key] = self._webhook[key]
        return info

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict) or not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    def _commands_key(self, args: _Args) -> tuple[str, str]:
        return self._scope_key(args.structured("scope")), args.opt_str("language_code") or ""

    async def _set_my_commands(self, args: _Args) -> bool:
        commands = args.structured("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH" if commands else "commands is empty")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(args)
        stored = [{"command": c["command"], "description": c["description"]} for c in commands]
        self._commands[key] = stored
        scope = json.loads(key[0])
        chat_id = scope.get("chat_id")
        self._publish(
            "commands_set",
            chat_id if isinstance(chat_id, int) else None,
            scope=scope,
            language_code=key[1] or None,
            commands=stored,
        )
        return True

    async def _get_my_commands(self, args: _Args) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(args), []))

    async def _delete_my_commands(self, args: _Args) -> bool:
        key = self._commands_key(args)
        self._commands.pop(key, None)
        scope = json.loads(key[0])
        chat_id = scope.get("chat_id")
        self._publish(
            "commands_set",
            chat_id if isinstance(chat_id, int) else None,
            scope=scope,
            language_code=key[1] or None,
            commands=[],
        )
        return True

    async def _set_chat_menu_button(self, args: _Args) -> bool:
        chat_id = args.opt_int("chat_id")
        button = args.structured("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise _bad_request("can't parse menu button JSON object")
        self._menu_buttons[chat_id] = button
        return True

    async def _get_chat_menu_button(self, args: _Args) -> JSON:
        chat_id = args.opt_int("chat_id")
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "default"})

    # ------------------------------------------------------------------ API: chats

    def _chat_of(self, args: _Args, name: str = "chat_id") -> int:
        """Resolve chat_id (or @username) to a known chat, or "chat not found"."""
        ref = args.chat_ref(name)
        if isinstance(ref, str):
            if re.fullmatch(r"-?\d+", ref):
                ref = int(ref)
            else:
                for chat in self._chats.values():
                    if "@" + str(chat.get("username", "")) == ref:
                        return int(chat["id"])
                raise _bad_request("chat not found")
        if ref not in self._chats:
            raise _bad_request("chat not found")
        return ref

    def _sendable_chat(self, args: _Args, name: str = "chat_id") -> int:
        chat_id = self._chat_of(args, name)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    async def _get_chat(self, args: _Args) -> JSON:
        chat = self._chat_json(self._chat_of(args))
        return chat | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def _get_chat_member(self, args: _Args) -> JSON:
        chat_id = self._chat_of(args)
        user_id = args.req_int("user_id")
        if user_id != self.bot_id and user_id not in self._users:
            raise _bad_request("user not found")
        user = self._user_json(user_id)
        if self._chats[chat_id]["type"] == "private":
            if user_id not in (chat_id, self.bot_id):
                raise _bad_request("user not found")
            return {"status": "member", "user": user}
        if user_id == self.bot_id:
            return {"status": "administrator", "user": user, "is_anonymous": False} | {
                right: right != "can_be_edited" for right in _ADMIN_RIGHTS
            }
        if user_id in self._members.get(chat_id, set()):
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    async def _send_chat_action(self, args: _Args) -> bool:
        chat_id = self._sendable_chat(args)
        action = args.req_str("action")
        self._publish("chat_action", chat_id, action=action)
        return True

    # ------------------------------------------------------------------ API: messages

    def _formatted(
        self, args: _Args, name: str, *, limit: int, required: bool
    ) -> tuple[str | None, str | None, list[JSON]]:
        """(plain text, html, entities) of a text or caption parameter, validated."""
        raw = args.opt_str(name)
        if raw is None or raw == "":
            if required:
                raise _bad_request("message text is empty")
            return None, None, []
        prefix = "caption_" if name == "caption" else ""
        parse_mode = (args.opt_str("parse_mode") or "").lower()
        explicit = args.structured(prefix + "entities")
        if isinstance(explicit, list) and explicit:
            plain, entities, markup = raw, explicit, html.escape(raw, quote=False)
        elif parse_mode == "html":
            plain, entities = parse_html(raw)
            markup = raw
        else:
            # Markdown modes are not rendered here; their text is kept as sent.
            plain, entities, markup = raw, [], html.escape(raw, quote=False)
        if required and not plain.strip():
            raise _bad_request("message text is empty")
        if len(plain) > limit:
            raise _bad_request("message caption is too long" if prefix else "message is too long")
        return plain, markup, entities

    def _reply_markup(self, args: _Args, *, inline_only: bool = False) -> JSON | None:
        markup = args.structured("reply_markup")
        if markup in (None, {}):
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad_request("can't parse inline keyboard button: field must be an Array")
            for row in rows:
                for button in row:
                    self._check_button(button)
        elif inline_only:
            raise _bad_request("inline keyboard expected")
        return markup

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise _bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        if not _BUTTON_ACTIONS & button.keys():
            raise _bad_request("text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise _bad_request("BUTTON_DATA_INVALID")

    def _reply_to(self, args: _Args, chat_id: int) -> int | None:
        target = args.opt_int("reply_to_message_id")
        allow_missing = args.flag("allow_sending_without_reply")
        parameters = args.structured("reply_parameters")
        if isinstance(parameters, dict) and parameters.get("message_id") is not None:
            target = int(parameters["message_id"])
            allow_missing = allow_missing or bool(parameters.get("allow_sending_without_reply"))
        if target is None:
            return None
        if self._live_message(chat_id, target) is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return target

    def _bot_message(self, chat_id: int, kind: str, args: _Args, **content: Any) -> JSON:
        record = self._new_record(
            chat_id,
            sender_id=self.bot_id,
            kind=kind,
            reply_to_message_id=self._reply_to(args, chat_id),
            **content,
        )
        self._publish("message_new", chat_id, message=record)
        return self._message_json(record)

    async def _send_message(self, args: _Args) -> JSON:
        chat_id = self._sendable_chat(args)
        text, markup, entities = self._formatted(args, "text", limit=TEXT_LIMIT, required=True)
        return self._bot_message(
            chat_id,
            "text",
            args,
            text=text,
            html=markup,
            entities=entities,
            reply_markup=self._reply_markup(args),
        )

    def _editable(self, args: _Args) -> JSON:
        chat_id = self._sendable_chat(args)
        record = self._live_message(chat_id, args.req_int("message_id"))
        if record is None:
            raise _bad_request("message to edit not found")
        if not record["from_bot"]:
            raise _bad_request("message can't be edited")
        return record

    def _apply_edit(self, record: JSON, changes: JSON, *, content_changed: bool) -> JSON:
        record.update(changes)
        record["edit_count"] += 1
        if content_changed:
            record["edit_date"] = int(self.clock())
        self._publish("message_edited", record["chat_id"], message=record)
        return self._message_json(record)

    async def _edit_message_text(self, args: _Args) -> JSON | bool:
        if args.has("inline_message_id"):
            self._formatted(args, "text", limit=TEXT_LIMIT, required=True)
            return True  # messages sent via inline mode are not tracked
        record = self._editable(args)
        if record["text"] is None:
            raise _bad_request("there is no text in the message to edit")
        text, markup, entities = self._formatted(args, "text", limit=TEXT_LIMIT, required=True)
        keyboard = self._reply_markup(args, inline_only=True)
        if (
            text == record["text"]
            and entities == record["entities"]
            and keyboard == _inline_markup(record["reply_markup"])
        ):
            raise _bad_request(NOT_MODIFIED)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        changes = {"text": text, "html": markup, "entities": entities, "reply_markup": keyboard}
        return self._apply_edit(record, changes, content_changed=True)

    async def _edit_message_caption(self, args: _Args) -> JSON | bool:
        if args.has("inline_message_id"):
            return True
        record = self._editable(args)
        if record["document"] is None and record["photo"] is None:
            raise _bad_request("there is no caption in the message to edit")
        caption, markup, entities = self._formatted(
            args, "caption", limit=CAPTION_LIMIT, required=False
        )
        keyboard = self._reply_markup(args, inline_only=True)
        if (
            caption == record["caption"]
            and entities == record["caption_entities"]
            and keyboard == _inline_markup(record["reply_markup"])
        ):
            raise _bad_request(NOT_MODIFIED)
        changes = {
            "caption": caption,
            "caption_html": markup,
            "caption_entities": entities,
            "reply_markup": keyboard,
        }
        return self._apply_edit(record, changes, content_changed=True)

    async def _edit_message_reply_markup(self, args: _Args) -> JSON | bool:
        if args.has("inline_message_id"):
            return True
        record = self._editable(args)
        keyboard = self._reply_markup(args, inline_only=True)
        if keyboard == _inline_markup(record["reply_markup"]):
            raise _bad_request(NOT_MODIFIED)
        # Telegram does not mark a message "edited" for a keyboard change.
        return self._apply_edit(record, {"reply_markup": keyboard}, content_changed=False)

    def _delete(self, chat_id: int, message_id: int) -> None:
        record = self._live_message(chat_id, message_id)
        if record is None:
            raise _bad_request("message to delete not found")
        if self.clock() - record["date"] > DELETE_WINDOW:
            raise _bad_request("message can't be deleted for everyone")
        record["deleted"] = True
        self._publish("message_deleted", chat_id, message_id=message_id)

    async def _delete_message(self, args: _Args) -> bool:
        self._delete(self._chat_of(args), args.req_int("message_id"))
        return True

    async def _delete_messages(self, args: _Args) -> bool:
        chat_id = self._chat_of(args)
        ids = args.structured("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad_request("message_ids is empty" if not ids else "too many messages")
        for message_id in ids:
            try:
                self._delete(chat_id, int(message_id))
            except ApiError:
                continue  # Telegram skips messages it can't find or delete
        return True

    async def _copy_message(self, args: _Args) -> JSON:
        source = self._live_message(self._chat_of(args, "from_chat_id"), args.req_int("message_id"))
        if source is None:
            raise _bad_request("message to copy not found")
        if source["kind"] not in ("text", "document", "photo"):
            raise _bad_request("message can't be copied")
        chat_id = self._sendable_chat(args)
        content = {key: copy.deepcopy(source[key]) for key in ("text", "html", "entities")}
        content |= {key: copy.deepcopy(source[key]) for key in ("document", "photo")}
        content |= {k: copy.deepcopy(source[k]) for k in ("caption", "caption_html")}
        content["caption_entities"] = copy.deepcopy(source["caption_entities"])
        if args.has("caption"):
            caption, markup, entities = self._formatted(
                args, "caption", limit=CAPTION_LIMIT, required=False
            )
            content |= {"caption": caption, "caption_html": markup, "caption_entities": entities}
        content["reply_markup"] = self._reply_markup(args)
        message = self._bot_message(chat_id, source["kind"], args, **content)
        return {"message_id": message["message_id"]}

    async def _forward_message(self, args: _Args) -> JSON:
        source = self._live_message(self._chat_of(args, "from_chat_id"), args.req_int("message_id"))
        if source is None:
            raise _bad_request("message to forward not found")
        if source["kind"] not in ("text", "document", "photo"):
            raise _bad_request("message can't be forwarded")
        chat_id = self._sendable_chat(args)
        keys = ("text", "html", "entities", "document", "photo", "caption", "caption_html")
        content = {key: copy.deepcopy(source[key]) for key in keys}
        content["caption_entities"] = copy.deepcopy(source["caption_entities"])
        content["forward_origin"] = {
            "type": "user",
            "date": source["date"],
            "sender_user": self._user_json(source["sender_id"]),
        }
        return self._bot_message(chat_id, source["kind"], args, **content)

    async def _answer_callback_query(self, args: _Args) -> bool:
        query = self._callbacks.get(args.req_str("callback_query_id"))
        if query is None or query["answered"]:
            raise _bad_request(QUERY_TOO_OLD)
        text = args.opt_str("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise _bad_request("MESSAGE_TOO_LONG")
        query.update(
            answered=True, text=text, show_alert=args.flag("show_alert"), url=args.opt_str("url")
        )
        self._publish(
            "callback_answer",
            query["chat_id"],
            callback_query_id=query["id"],
            message_id=query["message_id"],
            text=text,
            show_alert=query["show_alert"],
            url=query["url"],
        )
        return True

    async def _answer_inline_query(self, args: _Args) -> bool:
        query = self._inline_queries.get(args.req_str("inline_query_id"))
        if query is None or query["answered"]:
            raise _bad_request(QUERY_TOO_OLD)
        results = args.structured("results")
        if not isinstance(results, list):
            raise _bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise _bad_request("RESULTS_TOO_MUCH")
        ids = [result.get("id") for result in results if isinstance(result, dict)]
        if len(ids) != len(set(ids)) or len(ids) != len(results):
            raise _bad_request(
                "RESULT_ID_DUPLICATE" if len(ids) == len(results) else "RESULT_ID_EMPTY"
            )
        query.update(
            answered=True,
            results=results,
            cache_time=args.opt_int("cache_time"),
            is_personal=args.flag("is_personal"),
            next_offset=args.opt_str("next_offset"),
            button=args.structured("button"),
        )
        self._publish(
            "inline_results",
            query["user_id"],
            inline_query_id=query["id"],
            query=query["query"],
            results=results,
            next_offset=query["next_offset"],
            button=query["button"],
        )
        return True

    # ------------------------------------------------------------------ API: files

    def _store_file(self, upload: _Upload, folder: str, prefix: str) -> _StoredFile:
        self._serial += 1
        extension = ""
        if "." in upload.filename:
            extension = "." + upload.filename.rsplit(".", 1)[1]
        stored = _StoredFile(
            file_id=prefix + secrets.token_urlsafe(24),
            file_unique_id="AgAD" + secrets.token_urlsafe(8),
            file_path=f"{folder}/file_{self._serial}{extension}",
            file_name=upload.filename,
            mime_type=_mime_type(upload),
            data=upload.data,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _input_file(self, args: _Args, name: str, folder: str, prefix: str) -> _StoredFile:
        """An upload (attach://), a known file_id, or a URL (stored without content)."""
        value = args.opt_str(name)
        if not value:
            raise _bad_request(f"there is no {name} in the request")
        if value.startswith("attach://"):
            upload = args.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request(f"there is no {name} in the request")
            return self._store_file(upload, folder, prefix)
        if value in self._files:
            return self._files[value]
        if value.startswith(("http://", "https://")):
            file_name = urlsplit(value).path.rsplit("/", 1)[-1] or name
            return self._store_file(_Upload(file_name, "", b""), folder, prefix)
        raise _bad_request("wrong file identifier/HTTP URL specified")

    async def _send_document(self, args: _Args) -> JSON:
        chat_id = self._sendable_chat(args)
        stored = self._input_file(args, "document", "documents", "BQACAgIAAxkDAAI")
        caption, markup, entities = self._formatted(
            args, "caption", limit=CAPTION_LIMIT, required=False
        )
        document = stored.public() | {"file_path": stored.file_path}
        return self._bot_message(
            chat_id,
            "document",
            args,
            document=document,
            caption=caption,
            caption_html=markup,
            caption_entities=entities,
            reply_markup=self._reply_markup(args),
        )

    async def _send_photo(self, args: _Args) -> JSON:
        chat_id = self._sendable_chat(args)
        stored = self._input_file(args, "photo", "photos", "AgACAgIAAxkDAAI")
        caption, markup, entities = self._formatted(
            args, "caption", limit=CAPTION_LIMIT, required=False
        )
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": 800,
            "height": 600,
            "file_path": stored.file_path,
        }
        return self._bot_message(
            chat_id,
            "photo",
            args,
            photo=[size],
            caption=caption,
            caption_html=markup,
            caption_entities=entities,
            reply_markup=self._reply_markup(args),
        )

    async def _get_file(self, args: _Args) -> JSON:
        stored = self._files.get(args.req_str("file_id"))
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # ------------------------------------------------------------------ API: payments

    def _invoice(self, args: _Args) -> JSON:
        """The invoice parameters, validated the way Telegram does for Stars and fiat."""
        currency = args.req_str("currency").upper()
        payload = args.opt_str("payload") or ""
        if not 1 <= len(payload.encode()) <= INVOICE_PAYLOAD_LIMIT:
            raise _bad_request("INVOICE_PAYLOAD_INVALID")
        prices = args.structured("prices")
        if not isinstance(prices, list) or not prices:
            raise _bad_request("prices is empty")
        for price in prices:
            if not isinstance(price, dict) or not isinstance(price.get("amount"), int):
                raise _bad_request("can't parse prices JSON object")
        provider_token = args.opt_str("provider_token") or ""
        if currency == "XTR":
            # Stars: no provider token and exactly one price.
            if provider_token:
                raise _bad_request("PAYMENT_PROVIDER_INVALID")
            if len(prices) != 1:
                raise _bad_request("STARS_INVOICE_INVALID")
        elif not provider_token:
            raise _bad_request("PAYMENT_PROVIDER_INVALID")
        total = sum(int(price["amount"]) for price in prices)
        if total <= 0:
            raise _bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        return {
            "title": args.req_str("title"),
            "description": args.req_str("description"),
            "start_parameter": args.opt_str("start_parameter") or "",
            "currency": currency,
            "total_amount": total,
            "payload": payload,
            "prices": prices,
            "provider_token": provider_token,
            "photo_url": args.opt_str("photo_url"),
        }

    async def _send_invoice(self, args: _Args) -> JSON:
        chat_id = self._sendable_chat(args)
        invoice = self._invoice(args)
        keyboard = self._reply_markup(args, inline_only=True)
        if keyboard is None:
            # Telegram adds the Pay button itself when the bot sends none.
            amount = (
                f"⭐️{invoice['total_amount']}"
                if invoice["currency"] == "XTR"
                else f"{invoice['total_amount']} {invoice['currency']}"
            )
            keyboard = {"inline_keyboard": [[{"text": f"Pay {amount}", "pay": True}]]}
        return self._bot_message(
            chat_id,
            "invoice",
            args,
            invoice=invoice,
            reply_markup=keyboard,
        )

    async def _create_invoice_link(self, args: _Args) -> str:
        invoice = self._invoice(args)
        slug = secrets.token_urlsafe(12)
        self._invoice_links[slug] = invoice
        return f"https://t.me/${slug}"

    async def _answer_pre_checkout_query(self, args: _Args) -> bool:
        query_id = args.req_str("pre_checkout_query_id")
        waiter = self._checkouts.get(query_id)
        if waiter is None or waiter.done():
            raise _bad_request(QUERY_TOO_OLD)
        ok = args.flag("ok")
        error_message = args.opt_str("error_message")
        if not ok and not error_message:
            raise _bad_request("ERROR_MESSAGE_EMPTY")
        waiter.set_result((ok, error_message))
        return True

    async def _refund_star_payment(self, args: _Args) -> bool:
        user_id = args.req_int("user_id")
        payment = self._payment_by_charge(user_id, args.req_str("telegram_payment_charge_id"))
        if payment is None:
            raise _bad_request("CHARGE_NOT_FOUND")
        if payment["refunded"]:
            raise _bad_request("CHARGE_ALREADY_REFUNDED")
        payment.update(refunded=True, status="refunded")
        self._publish("payment", payment["chat_id"], payment=payment)
        return True
