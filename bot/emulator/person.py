"""What a person does in a client: send text, press buttons, use inline mode."""

from __future__ import annotations

import copy
import html

from bot.emulator.chats import ChatsMixin
from bot.emulator.entities import parse_html
from bot.emulator.wire import COMMAND_PREFIX_RE, JSON, has_button, inline_markup, u16


class PersonMixin(ChatsMixin):
    def callback_query(self, query_id: str) -> JSON | None:
        record = self._callbacks.get(query_id)
        return copy.deepcopy(record) if record is not None else None

    def inline_query(self, query_id: str) -> JSON | None:
        record = self._inline_queries.get(query_id)
        return copy.deepcopy(record) if record is not None else None

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
        command = COMMAND_PREFIX_RE.match(text)
        if command is not None:
            # Clients mark a leading command, and aiogram's Command filter relies on it.
            entities.append({"type": "bot_command", "offset": 0, "length": u16(command.group())})
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
        if not has_button(record["reply_markup"], callback_data):
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
        update = await self._enqueue(
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
        self._callbacks[query_id]["update_id"] = update["update_id"]
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
            reply_markup=inline_markup(result.get("reply_markup") if result else None),
        )
        self._publish("message_new", chat, message=record)
        return copy.deepcopy(record)
