"""The emulator's state as JSON: what the playground keeps on disk so that a restart looks like
nothing happened (the chats, the update ids the bot has seen, the payments it reconciles)."""

from __future__ import annotations

import base64
from typing import Any

from bot.emulator.base import EmulatorBase
from bot.emulator.records import StoredFile
from bot.emulator.wire import JSON, json_copy

STATE_VERSION = 1


class StateMixin(EmulatorBase):
    def export_state(self) -> JSON:
        """Everything a later process needs to carry on: users, chats, messages, files,
        payments, commands, the next update id and the updates not yet confirmed."""
        return json_copy(
            {
                "version": STATE_VERSION,
                "next_update_id": self._next_update_id,
                "serial": self._serial,
                "users": list(self._users.values()),
                "chats": list(self._chats.values()),
                "members": {str(chat): sorted(ids) for chat, ids in self._members.items()},
                "blocked": sorted(self._blocked),
                "messages": {str(chat): records for chat, records in self._messages.items()},
                "next_message_id": {str(chat): n for chat, n in self._next_message_id.items()},
                "payments": list(self._payments.values()),
                "referrals": [
                    {"user_id": user, "affiliate": affiliate}
                    for user, affiliate in self._referrals.items()
                ],
                "star_transfers": self._star_transfers,
                "invoice_links": self._invoice_links,
                "files": [_file_json(stored) for stored in self._files.values()],
                "commands": [
                    {"scope": scope, "language": language, "commands": commands}
                    for (scope, language), commands in self._commands.items()
                ],
                "menu_buttons": [
                    {"chat_id": chat, "button": button}
                    for chat, button in self._menu_buttons.items()
                ],
                "updates": self._updates,
            }
        )

    def clear(self) -> None:
        """Forget every user, chat, message, file and payment: a fresh start. Update ids and
        query ids carry on, so nothing new can be mistaken for something already seen."""
        for store in (
            self._users,
            self._chats,
            self._members,
            self._messages,
            self._next_message_id,
            self._callbacks,
            self._inline_queries,
            self._payments,
            self._referrals,
            self._invoice_links,
            self._files,
            self._files_by_path,
            self._commands,
            self._menu_buttons,
            self._update_log,
            self._deliveries,
            self._faults,
        ):
            store.clear()
        self._blocked.clear()
        self._updates.clear()
        self._star_transfers.clear()
        self._changed()

    def announce_reset(self) -> None:
        """Tell the pages that everything changed: they read it all again."""
        self._publish("reset", None)

    def import_state(self, state: JSON) -> None:
        """Carry on from :meth:`export_state`. Raises ValueError for a state of another shape."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError("not an emulator state of this version")
        try:
            self._restore(json_copy(state))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"a damaged emulator state: {exc!r}") from exc

    def _restore(self, state: JSON) -> None:
        # Everything is read before anything changes: a damaged file leaves the emulator as is.
        users = {int(user["id"]): user for user in state["users"]}
        chats = {int(chat["id"]): chat for chat in state["chats"]}
        members = {int(chat): {int(i) for i in ids} for chat, ids in state["members"].items()}
        blocked = {int(user) for user in state["blocked"]}
        messages = {int(chat): list(records) for chat, records in state["messages"].items()}
        next_ids = {int(chat): int(n) for chat, n in state["next_message_id"].items()}
        payments = {str(p["pre_checkout_query_id"]): p for p in state["payments"]}
        links = dict(state["invoice_links"])
        # Both came after version 1's first files, which carry on without them.
        referrals = {int(i["user_id"]): dict(i["affiliate"]) for i in state.get("referrals", [])}
        transfers = [dict(line) for line in state.get("star_transfers", [])]
        files = [_stored_file(item) for item in state["files"]]
        commands = {(i["scope"], i["language"]): i["commands"] for i in state["commands"]}
        buttons = {i["chat_id"]: i["button"] for i in state["menu_buttons"]}
        # Not confirmed by the bot before the restart: delivered again, as Telegram would.
        updates = sorted(state["updates"], key=lambda update: int(update["update_id"]))
        next_update_id, serial = int(state["next_update_id"]), int(state["serial"])

        self._next_update_id = max(self._next_update_id, next_update_id)
        self._serial = max(self._serial, serial)
        self._users.update(users)
        self._chats.update(chats)
        for chat, ids in members.items():
            self._members.setdefault(chat, set()).update(ids)
        self._blocked.update(blocked)
        self._messages.update(messages)
        self._next_message_id.update(next_ids)
        self._payments.update(payments)
        self._referrals.update(referrals)
        self._star_transfers.extend(transfers)
        self._invoice_links.update(links)
        for stored in files:
            self._files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
        self._commands.update(commands)
        self._menu_buttons.update(buttons)
        for update in updates:
            self._updates.append(update)
            self._update_log[int(update["update_id"])] = update
            self._deliveries[int(update["update_id"])] = 0


def _file_json(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_path": stored.file_path,
        "file_name": stored.file_name,
        "mime_type": stored.mime_type,
        "data": base64.b64encode(stored.data).decode("ascii"),
    }


def _stored_file(item: dict[str, Any]) -> StoredFile:
    return StoredFile(
        file_id=str(item["file_id"]),
        file_unique_id=str(item["file_unique_id"]),
        file_path=str(item["file_path"]),
        file_name=str(item["file_name"]),
        mime_type=str(item["mime_type"]),
        data=base64.b64decode(item["data"]),
    )
