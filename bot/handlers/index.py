"""The root router, which offers an update only to the feature routers that could take it.

aiogram offers every update to each included router in turn: its outer middlewares, its router
filters, then each handler's filters, until one handles it. With twenty feature routers, a
button of the seventh is checked against six routers' handlers first. Most handlers are keyed
(a callback data prefix, a command), so the root reads those keys once and skips the routers
that cannot match. Order and meaning are kept: the routers left are offered the update in their
order, and a router with any handler whose match cannot be read from its filters (a state, a
magic filter, no filter at all) is offered everything, as before.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, Message, TelegramObject

# Update kinds whose handlers carry readable keys; the others go to every router, as in aiogram.
MESSAGE, CALLBACK_QUERY = "message", "callback_query"
CALLBACK_SEPARATOR = ":"


class _Any:
    """A handler whose matches cannot be read from its filters."""


ANY = _Any()
Key = tuple[str, str] | str


def _handler_keys(filters: list[Any], update_type: str) -> set[Key] | _Any:
    for filter_ in filters:
        check = filter_.callback
        if update_type == CALLBACK_QUERY and isinstance(check, CallbackQueryFilter):
            data = check.callback_data
            if data.__separator__ != CALLBACK_SEPARATOR:
                return ANY
            return {data.__prefix__}
        if update_type == MESSAGE and isinstance(check, Command):
            commands = [command for command in check.commands if isinstance(command, str)]
            if len(commands) < len(check.commands):
                return ANY  # a pattern
            return {(prefix, command.lower()) for prefix in check.prefix for command in commands}
    return ANY


def router_keys(router: Router, update_type: str) -> set[Key] | _Any:
    """Every key a router (with the routers it includes) could handle, or ANY."""
    keys: set[Key] = set()
    for each in router.chain_tail:
        observer = each.observers.get(update_type)
        if observer is None:
            continue
        if len(observer.outer_middleware):
            return ANY  # it runs for every update that reaches the router
        for handler in observer.handlers:
            found = _handler_keys(handler.filters or [], update_type)
            if isinstance(found, _Any):
                return ANY
            keys |= found
    return keys


def event_key(update_type: str, event: TelegramObject) -> Key | None:
    """The key a handler would match on, read the way aiogram's filters read it."""
    if update_type == CALLBACK_QUERY and isinstance(event, CallbackQuery):
        return event.data.split(CALLBACK_SEPARATOR, 1)[0] if event.data else None
    if update_type == MESSAGE and isinstance(event, Message):
        words = (event.text or event.caption or "").split(maxsplit=1)
        if not words:
            return None
        first = words[0]
        return (first[0], first[1:].partition("@")[0].lower())
    return None


class IndexedRouter(Router):
    """A router of routers that skips, for keyed updates, the routers that cannot match."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        # update type -> key -> the routers to offer it, in order; None: an unknown key
        self._index: dict[str, dict[Key | None, tuple[Router, ...]]] = {}

    def include_router(self, router: Router) -> Router:
        self._index.clear()
        return super().include_router(router)

    def _build(self, update_type: str) -> dict[Key | None, tuple[Router, ...]]:
        found = [(router, router_keys(router, update_type)) for router in self.sub_routers]
        known = {key for _, keys in found if not isinstance(keys, _Any) for key in keys}
        return {
            key: tuple(router for router, keys in found if isinstance(keys, _Any) or key in keys)
            for key in (*known, None)
        }

    def _candidates(self, update_type: str, key: Key | None) -> tuple[Router, ...]:
        index = self._index.get(update_type)
        if index is None:
            index = self._index[update_type] = self._build(update_type)
        # A key no handler names (forged data, a plain text) is offered where any key is taken.
        return index.get(key) or index[None]

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        if update_type not in (MESSAGE, CALLBACK_QUERY) or (observer and observer.handlers):
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        if observer:
            passed, data = await observer.check_root_filters(event, **kwargs)
            if not passed:
                return UNHANDLED
            kwargs.update(data)
        for router in self._candidates(update_type, event_key(update_type, event)):
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                return response
        return UNHANDLED
