"""Sending, editing, deleting, copying and forwarding messages; callback answers."""

from __future__ import annotations

import copy
import html
import secrets
from typing import Any

from bot.emulator.chats import ChatsMixin
from bot.emulator.entities import parse_html
from bot.emulator.wire import (
    BUTTON_ACTIONS,
    CALLBACK_ANSWER_LIMIT,
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    DELETE_WINDOW,
    JSON,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    TEXT_LIMIT,
    ApiError,
    Args,
    bad_request,
    inline_markup,
)


class MessagesMixin(ChatsMixin):
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

    def reply_keyboard(self, chat_id: int) -> JSON | None:
        """The reply keyboard the chat shows now: the last one sent, unless removed since."""
        for record in reversed(self._messages.get(chat_id, [])):
            markup = record["reply_markup"]
            if not record["from_bot"] or markup is None or "inline_keyboard" in markup:
                continue
            return None if markup.get("remove_keyboard") else copy.deepcopy(markup)
        return None

    # ------------------------------------------------------------------ API: messages

    def _formatted(
        self, args: Args, name: str, *, limit: int, required: bool
    ) -> tuple[str | None, str | None, list[JSON]]:
        """(plain text, html, entities) of a text or caption parameter, validated."""
        raw = args.opt_str(name)
        if raw is None or raw == "":
            if required:
                raise bad_request("message text is empty")
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
            raise bad_request("message text is empty")
        if len(plain) > limit:
            raise bad_request("message caption is too long" if prefix else "message is too long")
        return plain, markup, entities

    def _reply_markup(self, args: Args, *, inline_only: bool = False) -> JSON | None:
        markup = args.structured("reply_markup")
        if markup in (None, {}):
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request("can't parse inline keyboard button: field must be an Array")
            for row in rows:
                for button in row:
                    self._check_button(button)
        elif inline_only:
            raise bad_request("inline keyboard expected")
        return markup

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        if not BUTTON_ACTIONS & button.keys():
            raise bad_request("text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")

    def _reply_to(self, args: Args, chat_id: int) -> int | None:
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
            raise bad_request("message to be replied not found")
        return target

    def _bot_message(self, chat_id: int, kind: str, args: Args, **content: Any) -> JSON:
        record = self._new_record(
            chat_id,
            sender_id=self.bot_id,
            kind=kind,
            reply_to_message_id=self._reply_to(args, chat_id),
            **content,
        )
        self._publish("message_new", chat_id, message=record)
        return self._message_json(record)

    async def _send_message(self, args: Args) -> JSON:
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

    def _editable(self, args: Args) -> JSON:
        chat_id = self._sendable_chat(args)
        record = self._live_message(chat_id, args.req_int("message_id"))
        if record is None:
            raise bad_request("message to edit not found")
        if not record["from_bot"]:
            raise bad_request("message can't be edited")
        return record

    def _apply_edit(self, record: JSON, changes: JSON, *, content_changed: bool) -> JSON:
        record.update(changes)
        record["edit_count"] += 1
        if content_changed:
            record["edit_date"] = int(self.clock())
        self._publish("message_edited", record["chat_id"], message=record)
        return self._message_json(record)

    async def _edit_message_text(self, args: Args) -> JSON | bool:
        if args.has("inline_message_id"):
            self._formatted(args, "text", limit=TEXT_LIMIT, required=True)
            return True  # messages sent via inline mode are not tracked
        record = self._editable(args)
        if record["text"] is None:
            raise bad_request("there is no text in the message to edit")
        text, markup, entities = self._formatted(args, "text", limit=TEXT_LIMIT, required=True)
        keyboard = self._reply_markup(args, inline_only=True)
        if (
            text == record["text"]
            and entities == record["entities"]
            and keyboard == inline_markup(record["reply_markup"])
        ):
            raise bad_request(NOT_MODIFIED)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        changes = {"text": text, "html": markup, "entities": entities, "reply_markup": keyboard}
        return self._apply_edit(record, changes, content_changed=True)

    async def _edit_message_caption(self, args: Args) -> JSON | bool:
        if args.has("inline_message_id"):
            return True
        record = self._editable(args)
        if record["document"] is None and record["photo"] is None:
            raise bad_request("there is no caption in the message to edit")
        caption, markup, entities = self._formatted(
            args, "caption", limit=CAPTION_LIMIT, required=False
        )
        keyboard = self._reply_markup(args, inline_only=True)
        if (
            caption == record["caption"]
            and entities == record["caption_entities"]
            and keyboard == inline_markup(record["reply_markup"])
        ):
            raise bad_request(NOT_MODIFIED)
        changes = {
            "caption": caption,
            "caption_html": markup,
            "caption_entities": entities,
            "reply_markup": keyboard,
        }
        return self._apply_edit(record, changes, content_changed=True)

    async def _edit_message_reply_markup(self, args: Args) -> JSON | bool:
        if args.has("inline_message_id"):
            return True
        record = self._editable(args)
        keyboard = self._reply_markup(args, inline_only=True)
        if keyboard == inline_markup(record["reply_markup"]):
            raise bad_request(NOT_MODIFIED)
        # Telegram does not mark a message "edited" for a keyboard change.
        return self._apply_edit(record, {"reply_markup": keyboard}, content_changed=False)

    def _delete(self, chat_id: int, message_id: int) -> None:
        record = self._live_message(chat_id, message_id)
        if record is None:
            raise bad_request("message to delete not found")
        if self.clock() - record["date"] > DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")
        record["deleted"] = True
        self._publish("message_deleted", chat_id, message_id=message_id)

    async def _delete_message(self, args: Args) -> bool:
        self._delete(self._chat_of(args), args.req_int("message_id"))
        return True

    async def _delete_messages(self, args: Args) -> bool:
        chat_id = self._chat_of(args)
        ids = args.structured("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids is empty" if not ids else "too many messages")
        for message_id in ids:
            try:
                self._delete(chat_id, int(message_id))
            except ApiError:
                continue  # Telegram skips messages it can't find or delete
        return True

    async def _copy_message(self, args: Args) -> JSON:
        source = self._live_message(self._chat_of(args, "from_chat_id"), args.req_int("message_id"))
        if source is None:
            raise bad_request("message to copy not found")
        if source["kind"] not in ("text", "document", "photo"):
            raise bad_request("message can't be copied")
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

    async def _forward_message(self, args: Args) -> JSON:
        source = self._live_message(self._chat_of(args, "from_chat_id"), args.req_int("message_id"))
        if source is None:
            raise bad_request("message to forward not found")
        if source["kind"] not in ("text", "document", "photo"):
            raise bad_request("message can't be forwarded")
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

    async def _answer_callback_query(self, args: Args) -> bool:
        query = self._callbacks.get(args.req_str("callback_query_id"))
        if query is None or query["answered"]:
            raise bad_request(QUERY_TOO_OLD)
        text = args.opt_str("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
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

    async def _save_prepared_inline_message(self, args: Args) -> JSON:
        """A message a Mini App may share (``shareMessage``) for 24 hours."""
        user_id = args.req_int("user_id")
        if user_id not in self._users:
            raise bad_request("USER_ID_INVALID")
        result = args.structured("result")
        if not isinstance(result, dict) or not result.get("id") or "type" not in result:
            raise bad_request("can't parse inline query result JSON object")
        kinds = ("allow_user_chats", "allow_bot_chats", "allow_group_chats", "allow_channel_chats")
        if not any(args.flag(kind) for kind in kinds):
            raise bad_request("PEER_TYPES_EMPTY")
        prepared_id = secrets.token_hex(8)
        self._prepared_messages[prepared_id] = {"user_id": user_id, "result": result}
        return {"id": prepared_id, "expiration_date": int(self.clock()) + 86400}

    def prepared_message(self, prepared_id: str) -> JSON | None:
        """What a Mini App's shareMessage would send, and whose it is."""
        found = self._prepared_messages.get(prepared_id)
        return copy.deepcopy(found) if found is not None else None

    async def _answer_inline_query(self, args: Args) -> bool:
        query = self._inline_queries.get(args.req_str("inline_query_id"))
        if query is None or query["answered"]:
            raise bad_request(QUERY_TOO_OLD)
        results = args.structured("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [result.get("id") for result in results if isinstance(result, dict)]
        if len(ids) != len(set(ids)) or len(ids) != len(results):
            raise bad_request(
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
