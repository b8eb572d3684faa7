"""The emulator's state and the pieces every area of the Bot API shares."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.emulator.records import Call, Fault, StoredFile, WebhookQueues
from bot.emulator.wire import JSON, ApiMethod, inline_markup, json_copy


class EmulatorBase:
    """The shared state of one emulator and what every area needs: message records, the update
    queue, the event feed. Areas of the Bot API are mixins over it (see ``BotAPIEmulator``)."""

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
        self._prepared_messages: dict[str, JSON] = {}  # savePreparedInlineMessage, by id
        self._payments: dict[str, JSON] = {}  # by pre_checkout_query_id
        self._referrals: dict[int, JSON] = {}  # buyer -> the affiliate who referred them
        self._star_transfers: list[JSON] = []  # Stars lines with no buyer: emulator/stars.py
        self._checkouts: dict[str, asyncio.Future[tuple[bool, str | None]]] = {}
        self._invoice_links: dict[str, JSON] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._menu_buttons: dict[int | None, JSON] = {}
        self._webhook: JSON = {"url": ""}
        self._hooks = WebhookQueues()  # webhook delivery: bot/emulator/delivery.py
        self._serial = 0
        self._call_listeners: list[Callable[[Call], None]] = []
        self._change_listeners: list[Callable[[], None]] = []

        self._updates: list[JSON] = []  # unconfirmed, in update_id order
        self._update_log: dict[int, JSON] = {}
        self._deliveries: dict[int, int] = {}
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._updates_changed = asyncio.Condition()

        self._calls: list[Call] = []
        self._calls_changed = asyncio.Condition()
        self._faults: dict[str, list[Fault]] = {}
        self._page_faults: dict[str, int] = {}
        self._page_status = 502
        self._duplicate_payments = 0

        self._subscribers: set[asyncio.Queue[JSON]] = set()
        self._event_seq = 0

        self._methods: dict[str, ApiMethod] = self._api_methods()
        # Telegram method names are case-insensitive.
        self._method_names = {name.lower(): name for name in self._methods}

    def _api_methods(self) -> dict[str, ApiMethod]:
        """The Bot API methods this emulator answers, by name (see ``BotAPIEmulator``)."""
        raise NotImplementedError

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

    # ------------------------------------------------------------------ users

    def _ensure_user(self, user_id: int) -> JSON:
        if user_id not in self._users:
            self.add_user(user_id, f"User {user_id}")
        return self._users[user_id]

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
        return json_copy(self._ensure_user(user_id))

    def _injection_chat(self, user_id: int, chat_id: int | None) -> int:
        self._ensure_user(user_id)
        target = user_id if chat_id is None else chat_id
        if target not in self._chats:
            msg = f"unknown chat {target}: add it with add_group_chat()"
            raise ValueError(msg)
        if target != user_id:
            self._members.setdefault(target, set()).add(user_id)
        return target

    def _canonical(self, method: str) -> str:
        return self._method_names.get(method.lower(), method)

    def on_call(self, listener: Callable[[Call], None]) -> None:
        """Call ``listener`` with each call as it is recorded (benchmarks time answers this way)."""
        self._call_listeners.append(listener)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each change of state that a page or a restart would see."""
        self._change_listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._change_listeners:
            listener()

    async def _record(self, call: Call) -> None:
        if call.index < 0:
            call.index = len(self._calls)
            self._calls.append(call)
            for listener in self._call_listeners:
                listener(call)
        async with self._calls_changed:
            self._calls_changed.notify_all()

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
        self._changed()

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
        self._changed()
        async with self._updates_changed:
            self._updates_changed.notify_all()
        return json_copy(update)

    async def _close_deliveries(self) -> None:
        """Stop webhook posts in flight (bot/emulator/delivery.py); nothing to do without."""

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
        return json_copy(self._chats.get(chat_id, {"id": chat_id, "type": "private"}))

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
        inline = inline_markup(record["reply_markup"])
        if inline is not None:
            message["reply_markup"] = inline
        return json_copy(message)
