"""Users, chats, membership, the command menu and getMe."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from typing import Any

from bot.emulator.base import EmulatorBase
from bot.emulator.wire import ADMIN_RIGHTS, COMMAND_RE, JSON, ApiError, Args, bad_request


class ChatsMixin(EmulatorBase):
    # ------------------------------------------------------------------ users and chats

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

    def commands(self, scope: JSON | None = None, language_code: str | None = None) -> list[JSON]:
        key = (self._scope_key(scope), language_code or "")
        return copy.deepcopy(self._commands.get(key, []))

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

    # ------------------------------------------------------------------ API: bot and webhook

    async def _get_me(self, args: Args) -> JSON:
        return self._bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not isinstance(scope, dict) or not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True)

    def _commands_key(self, args: Args) -> tuple[str, str]:
        return self._scope_key(args.structured("scope")), args.opt_str("language_code") or ""

    async def _set_my_commands(self, args: Args) -> bool:
        commands = args.structured("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH" if commands else "commands is empty")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.match(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
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

    async def _get_my_commands(self, args: Args) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(args), []))

    async def _delete_my_commands(self, args: Args) -> bool:
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

    async def _set_chat_menu_button(self, args: Args) -> bool:
        chat_id = args.opt_int("chat_id")
        button = args.structured("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad_request("can't parse menu button JSON object")
        self._menu_buttons[chat_id] = button
        return True

    def menu_button(self, chat_id: int | None = None) -> JSON:
        """The button beside a chat's message field (the bot's default for every chat)."""
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "default"})

    async def _get_chat_menu_button(self, args: Args) -> JSON:
        chat_id = args.opt_int("chat_id")
        button = self._menu_buttons.get(chat_id) or self._menu_buttons.get(None)
        return copy.deepcopy(button or {"type": "default"})

    # ------------------------------------------------------------------ API: chats

    def _chat_of(self, args: Args, name: str = "chat_id") -> int:
        """Resolve chat_id (or @username) to a known chat, or "chat not found"."""
        ref = args.chat_ref(name)
        if isinstance(ref, str):
            if re.fullmatch(r"-?\d+", ref):
                ref = int(ref)
            else:
                for chat in self._chats.values():
                    if "@" + str(chat.get("username", "")) == ref:
                        return int(chat["id"])
                raise bad_request("chat not found")
        if ref not in self._chats:
            raise bad_request("chat not found")
        return ref

    def _sendable_chat(self, args: Args, name: str = "chat_id") -> int:
        chat_id = self._chat_of(args, name)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    async def _get_chat(self, args: Args) -> JSON:
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

    async def _get_chat_member(self, args: Args) -> JSON:
        chat_id = self._chat_of(args)
        user_id = args.req_int("user_id")
        if user_id != self.bot_id and user_id not in self._users:
            raise bad_request("user not found")
        user = self._user_json(user_id)
        if self._chats[chat_id]["type"] == "private":
            if user_id not in (chat_id, self.bot_id):
                raise bad_request("user not found")
            return {"status": "member", "user": user}
        if user_id == self.bot_id:
            return {"status": "administrator", "user": user, "is_anonymous": False} | {
                right: right != "can_be_edited" for right in ADMIN_RIGHTS
            }
        if user_id in self._members.get(chat_id, set()):
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    async def _send_chat_action(self, args: Args) -> bool:
        chat_id = self._sendable_chat(args)
        action = args.req_str("action")
        self._publish("chat_action", chat_id, action=action)
        return True
