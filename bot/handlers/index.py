"""The dispatcher, which offers an update only to the handlers that could take it.

aiogram offers every update to each included router in turn: its outer middlewares, its router
filters, then each handler's filters, until one handles it. With twenty feature routers, a
button of the seventh is checked against six routers' handlers first, and each check copies the
handler data once more. Most handlers say what they take in a way that can be read once: a
callback prefix (and a menu entry), a command, a conversation state. So the dispatcher keeps,
for each key and state, the routers and handlers that could match, and offers an update only
to those. Order and meaning are kept: they are offered the update in aiogram's order, with the
router filters, inner middlewares, ``event_router`` and ``handler`` that aiogram would give
them; a handler whose match cannot be read (a magic filter, no filter at all) is offered
everything, and a router with outer middlewares is offered everything through aiogram's own
path. Routes are read when first used: routers, handlers and middlewares are all registered
before the bot starts. The index sits in the dispatcher itself, so an update walks one router
level less than under a root router of aiogram's own.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED, NextMiddlewareType, SkipHandler
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.filters.state import StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from magic_filter import MagicFilter
from magic_filter.operations import ComparatorOperation, GetAttributeOperation

from bot.handlers.filters import PAYMENT_FIELDS, PaymentMessage

# Update kinds whose handlers carry readable keys; the others go to every router, as in aiogram.
MESSAGE, CALLBACK_QUERY = "message", "callback_query"
CALLBACK_SEPARATOR = ":"


class _Any:
    """A handler whose matches cannot be read from its filters."""


ANY = _Any()
T = TypeVar("T")
# A callback prefix, or (prefix, first value) for a button named by both; (prefix, command)
# for a command; (SERVICE, field) for a payment's service message.
Key = tuple[str, str] | str
SERVICE = "service"  # longer than the one character that starts a command's key


def _first_value(check: CallbackQueryFilter) -> str | None:
    """The first field's value when the filter's rule is ``F.<first field> == <choice>`` on a
    str enum (``Menu.filter(F.action == MenuAction.BALANCE)``): the packed data then reads
    ``m:balance`` and nothing else. Any other rule names no value."""
    rule = check.rule
    fields = list(check.callback_data.model_fields.items())
    if not isinstance(rule, MagicFilter) or not fields:
        return None
    name, field = fields[0]
    operations = rule._operations  # magic-filter's chain: getattr, then the comparison
    if not (
        len(operations) == 2
        and isinstance(operations[0], GetAttributeOperation)
        and operations[0].name == name
        and isinstance(operations[1], ComparatorOperation)
        and operations[1].comparator is operator.eq
        and isinstance(field.annotation, type)
        and issubclass(field.annotation, str)
        and issubclass(field.annotation, Enum)
        and isinstance(operations[1].right, field.annotation)
    ):
        return None
    return str(operations[1].right.value)


def _handler_keys(filters: list[Any], update_type: str) -> set[Key] | _Any:
    for filter_ in filters:
        check = filter_.callback
        if update_type == CALLBACK_QUERY and isinstance(check, CallbackQueryFilter):
            data = check.callback_data
            if data.__separator__ != CALLBACK_SEPARATOR:
                return ANY
            value = _first_value(check)
            return {data.__prefix__ if value is None else (data.__prefix__, value)}
        if update_type == MESSAGE and isinstance(check, Command):
            commands = [command for command in check.commands if isinstance(command, str)]
            if len(commands) < len(check.commands):
                return ANY  # a pattern
            return {(prefix, command.lower()) for prefix in check.prefix for command in commands}
        if update_type == MESSAGE and isinstance(check, PaymentMessage):
            return {(SERVICE, check.field)}
    return ANY


def _named(
    router: Router, update_type: str, read: Callable[[list[Any]], AbstractSet[T] | _Any]
) -> set[T]:
    """Everything that ``read`` finds named in the filters of a handler of ``router``, or of a
    router it includes."""
    found: set[T] = set()
    for each in router.chain_tail:
        for handler in each.observers[update_type].handlers:
            names = read(handler.filters or [])
            if not isinstance(names, _Any):
                found |= names
    return found


def named_keys(router: Router, update_type: str) -> set[Key]:
    """Every key that a handler of ``router``, or of a router it includes, names."""
    return _named(router, update_type, lambda filters: _handler_keys(filters, update_type))


class _OtherState:
    """A conversation state that no handler names."""


OTHER_STATE = _OtherState()
StateKey = str | None | _OtherState


def _handler_states(filters: list[Any]) -> frozenset[str | None] | _Any:
    """The conversation states a handler's first StateFilter lets through; ANY for "*" or for
    no StateFilter at all."""
    for filter_ in filters:
        check = filter_.callback
        if not isinstance(check, StateFilter):
            continue
        names: set[str | None] = set()
        for allowed in check.states:
            if isinstance(allowed, type) and issubclass(allowed, StatesGroup):
                names.update(allowed.__all_states_names__)
            elif isinstance(allowed, StatesGroup):
                names.update(type(allowed).__all_states_names__)
            else:
                name = allowed.state if isinstance(allowed, State) else allowed
                if name == "*":
                    return ANY
                names.add(name)
        return frozenset(names)
    return ANY


def named_states(router: Router, update_type: str) -> set[str | None]:
    """Every conversation state that a handler of ``router``, or of a router it includes,
    names in a StateFilter."""
    return _named(router, update_type, _handler_states)


def event_key(update_type: str, event: TelegramObject) -> Key | None:
    """The key a handler would match on, read the way aiogram's filters read it."""
    if update_type == CALLBACK_QUERY and isinstance(event, CallbackQuery):
        if not event.data:
            return None
        prefix, _, rest = event.data.partition(CALLBACK_SEPARATOR)
        return (prefix, rest.partition(CALLBACK_SEPARATOR)[0])
    if update_type == MESSAGE and isinstance(event, Message):
        for field in PAYMENT_FIELDS:  # a service message: no text, no caption
            if getattr(event, field) is not None:
                return (SERVICE, field)
        words = (event.text or event.caption or "").split(maxsplit=1)
        if not words:
            return None
        first = words[0]
        return (first[0], first[1:].partition("@")[0].lower())
    return None


@dataclass(frozen=True, slots=True)
class _Handler:
    handler: HandlerObject
    call: NextMiddlewareType[TelegramObject]  # its inner middlewares around it, built once


@dataclass(frozen=True, slots=True)
class _Offer:
    """One router's part of a route: its handlers that could take the key, then its routers."""

    router: Router
    observer: TelegramEventObserver
    handlers: tuple[_Handler, ...]
    routers: tuple[_Offer, ...]
    whole: bool  # outer middlewares run for every update: offered through aiogram's own path
    filtered: bool = False  # router filters to pass first


def _takes(keys: set[Key] | _Any, key: Key | None) -> bool:
    """Whether a handler keyed ``keys`` could match an update keyed ``key``: a button's
    (prefix, value) is also taken by a handler of the whole prefix."""
    if isinstance(keys, _Any) or key in keys:
        return True
    return isinstance(key, tuple) and key[0] in keys


def _could_take(handler: HandlerObject, update_type: str, key: Key | None, state: StateKey) -> bool:
    filters = handler.filters or []
    states = _handler_states(filters)
    in_state = isinstance(states, _Any) or (not isinstance(state, _OtherState) and state in states)
    return in_state and _takes(_handler_keys(filters, update_type), key)


def _offer(router: Router, update_type: str, key: Key | None, state: StateKey) -> _Offer | None:
    """What of ``router`` could take an update with ``key`` in conversation ``state``; None
    when nothing could."""
    observer = router.observers[update_type]
    if len(observer.outer_middleware):
        return _Offer(router, observer, (), (), whole=True)
    inner = observer._resolve_middlewares()  # aiogram's own order: outermost router first
    handlers = tuple(
        _Handler(handler, MiddlewareManager.wrap_middlewares(inner, handler.call))
        for handler in observer.handlers
        if _could_take(handler, update_type, key, state)
    )
    routers = tuple(
        offer
        for child in router.sub_routers
        if (offer := _offer(child, update_type, key, state)) is not None
    )
    if not handlers and not routers:
        return None
    # aiogram keeps router filters in the observer's own handler object; none, nothing to check.
    filtered = bool(observer._handler.filters)
    return _Offer(router, observer, handlers, routers, whole=False, filtered=filtered)


async def _trigger(
    observer: TelegramEventObserver,
    handlers: tuple[_Handler, ...],
    event: TelegramObject,
    kwargs: dict[str, Any],
) -> Any:
    """aiogram's ``TelegramEventObserver.trigger``, over the handlers that could match.

    A check answers with its own copy of the data, the filters' results added, which aiogram
    merges back into ``kwargs``: here that copy is taken as it is."""
    for each in handlers:
        kwargs["handler"] = each.handler
        passed, data = await each.handler.check(event, **kwargs)
        if passed:
            kwargs = data
            try:
                return await each.call(event, kwargs)
            except SkipHandler:
                continue
    return UNHANDLED


async def _propagate(
    offer: _Offer, update_type: str, event: TelegramObject, kwargs: dict[str, Any]
) -> Any:
    """aiogram's ``Router.propagate_event``, over one router's offer."""
    if offer.whole:
        return await offer.router.propagate_event(update_type=update_type, event=event, **kwargs)
    kwargs = {**kwargs, "event_router": offer.router}
    if offer.filtered:
        passed, kwargs = await offer.observer.check_root_filters(event, **kwargs)
        if not passed:
            return UNHANDLED
    if offer.handlers:
        # The handlers' data stays theirs: the routers below see the router's, as in aiogram.
        own = dict(kwargs) if offer.routers else kwargs
        response = await _trigger(offer.observer, offer.handlers, event, own)
        if response is REJECTED:
            return UNHANDLED
        if response is not UNHANDLED:
            return response
    for child in offer.routers:
        response = await _propagate(child, update_type, event, kwargs)
        if response is not UNHANDLED:
            return response
    return UNHANDLED


class _UpdateObserver(TelegramEventObserver):
    """aiogram's observer of whole updates, calling the dispatcher's own handler (which finds
    the update's kind and propagates it) directly while nothing is registered around it:
    aiogram would check its absent filters and wrap it in middleware machinery every time."""

    async def trigger(self, event: TelegramObject, **kwargs: Any) -> Any:
        if len(self.handlers) != 1 or self.handlers[0].filters or len(self.middleware):
            return await super().trigger(event, **kwargs)
        handler = kwargs["handler"] = self.handlers[0]
        try:
            return await handler.call(event, **kwargs)
        except SkipHandler:  # an update of a kind this aiogram does not know
            return UNHANDLED


class IndexedDispatcher(Dispatcher):
    """aiogram's dispatcher, offering a keyed update only to the handlers that could match."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The same observer, with its handler and middlewares, and the direct call above.
        self.update.__class__ = _UpdateObserver
        # update type -> the keys and the states that handlers name
        self._named: dict[str, tuple[set[Key], set[str | None]]] = {}
        # update type -> (key, state) -> what to offer it, in order; built when first asked,
        # for named keys and states only (anything else reads as None or OTHER_STATE)
        self._routes: dict[str, dict[tuple[Key | None, StateKey], tuple[_Offer, ...]]] = {}

    def include_router(self, router: Router) -> Router:
        self._named.clear()
        self._routes.clear()
        return super().include_router(router)

    def _route(self, update_type: str, key: Key | None, state: StateKey) -> tuple[_Offer, ...]:
        named = self._named.get(update_type)
        if named is None:
            named = self._named[update_type] = (
                {key for router in self.sub_routers for key in named_keys(router, update_type)},
                {s for router in self.sub_routers for s in named_states(router, update_type)},
            )
        keys, states = named
        if key not in keys:
            # A key no handler names (forged data, a plain text) goes only where any key is
            # taken; a button whose value no handler names, where its prefix is.
            prefix = key[0] if update_type == CALLBACK_QUERY and isinstance(key, tuple) else None
            key = prefix if prefix in keys else None
        if state not in states:
            state = OTHER_STATE
        routes = self._routes.setdefault(update_type, {})
        route = routes.get((key, state))
        if route is None:
            route = routes[key, state] = tuple(
                offer
                for router in self.sub_routers
                if (offer := _offer(router, update_type, key, state)) is not None
            )
        return route

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        if update_type not in (MESSAGE, CALLBACK_QUERY) or (observer and observer.handlers):
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        if observer and observer._handler.filters:
            passed, kwargs = await observer.check_root_filters(event, **kwargs)
            if not passed:
                return UNHANDLED
        # aiogram's FSM middleware has read the conversation's state (a command that leaves a
        # step has cleared it: bot/middlewares/input_limits.py).
        state = kwargs.get("raw_state")
        for offer in self._route(update_type, event_key(update_type, event), state):
            response = await _propagate(offer, update_type, event, kwargs)
            if response is not UNHANDLED:
                return response
        return UNHANDLED
