"""Rows kept in the process: every update reads its sender and its conversation state, and
reading them from the database each time cost two or three round trips.

They stay correct when other processes share the database: on PostgreSQL every write of a user
row or a conversation state notifies (``pg_notify``, delivered when it commits) and each process
listens and forgets what changed elsewhere. User rows carry a version, so a copy is replaced only
by a newer one, whichever order a write, a racing read and a notification arrive in. If the
listening connection is lost, nothing is trusted: every read goes to the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from bot.domain.models import UserRecord
from bot.lru import LRU

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")

# Users remembered in the process; the least recently seen beyond this are read again.
CACHED_USERS = 100_000
# Conversations remembered in the process; the least recently used beyond this are read again.
CACHED_CONVERSATIONS = 50_000


class RowCache(Generic[K, V]):
    """A bounded map of rows; with ``version``, a copy never replaces a newer one."""

    def __init__(self, size: int, version: Callable[[V], int] | None = None) -> None:
        self._rows: LRU[K, V] = LRU(size)
        self._version = version
        self.trusted = True
        self._groups: LRU[int, set[K]] = LRU(size)  # a chat's keys, for forget_group

    def get(self, key: K) -> V | None:
        return self._rows.get(key) if self.trusted else None

    def remember(self, key: K, row: V, group: int | None = None) -> None:
        if not self.trusted:
            return
        if group is not None:
            keys = self._groups.get(group)
            if keys is None:
                self._groups.put(group, {key})
            else:
                keys.add(key)
        if self._version is not None:
            known = self._rows.get(key)
            if known is not None and self._version(known) > self._version(row):
                return
        self._rows.put(key, row)

    def forget(self, key: K) -> None:
        self._rows.forget(key)

    def forget_group(self, group: int) -> None:
        for key in self._groups.get(group) or ():
            self._rows.forget(key)
        self._groups.forget(group)

    def forget_older(self, key: K, version: int) -> None:
        """Another process wrote ``version``: forget a copy older than that."""
        known = self._rows.get(key)
        if known is not None and (self._version is None or self._version(known) < version):
            self._rows.forget(key)

    def distrust(self) -> None:
        self.trusted = False
        self._rows = LRU(self._rows.size)
        self._groups = LRU(self._groups.size)


class Caches:
    """The row caches of one process, owned by its Database."""

    def __init__(self) -> None:
        self.users: RowCache[int, UserRecord] = RowCache(
            CACHED_USERS, version=lambda user: user.version
        )
        self.conversations: RowCache[str, tuple[str | None, str]] = RowCache(CACHED_CONVERSATIONS)

    def changed_elsewhere(self, channel: str, payload: str) -> None:
        """A notification: ``users`` with ``<id>:<version>``, or ``fsm`` with a key."""
        if channel.startswith(USERS_CHANNEL):
            user_id, _, version = payload.partition(":")
            self.users.forget_older(int(user_id), int(version or 0))
        elif channel.startswith(FSM_CHANNEL):
            self.conversations.forget(payload)

    def forget_chats(self, chats: Iterable[str]) -> None:
        """Chats whose updates another process may have handled last: read them again. A
        private chat's id is its user's."""
        for chat in chats:
            if chat.lstrip("-").isdigit():
                self.users.forget(int(chat))
                self.conversations.forget_group(int(chat))

    def distrust(self) -> None:
        log.warning("event=row_caches_off reason=listener_lost")
        self.users.distrust()
        self.conversations.distrust()


# Channel prefixes; the schema's name follows, so bots sharing a server never hear each other.
USERS_CHANNEL = "gw_users_"
FSM_CHANNEL = "gw_fsm_"
