"""Every handler, filter and middleware of the bot is a coroutine.

aiogram runs a plain function (a bare ``State`` used as a filter, for one) through
``asyncio.to_thread``: a thread hop per check of every update that reaches it. Bare states cost
the bot two thirds of its handling time before they were wrapped in ``StateFilter``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from bot.app import Application
from bot.config import load_settings
from bot.handlers import create_root_router
from tests.conftest import TOKEN


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from _routers(child)


def _callables(router: Router) -> Iterator[tuple[str, CallableObject]]:
    for sub in _routers(router):
        for kind, observer in sub.observers.items():
            for filter_ in observer._handler.filters or ():
                yield f"{sub.name}.{kind} router filter {filter_.callback!r}", filter_
            for handler in observer.handlers:
                yield f"{sub.name}.{kind} {handler.callback!r}", handler
                for filter_ in handler.filters or ():
                    yield f"{sub.name}.{kind} filter {filter_.callback!r}", filter_


def test_no_handler_or_filter_runs_in_a_thread() -> None:
    root = create_root_router()
    callables = list(_callables(root))
    assert len(callables) > 100  # the walk reached the feature routers
    in_threads = [name for name, obj in callables if not obj.awaitable and obj.callback]
    assert in_threads == []


def test_no_middleware_runs_in_a_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    dispatcher = Application(load_settings()).dispatcher
    import inspect

    middlewares = [
        middleware
        for router in _routers(dispatcher)
        for observer in router.observers.values()
        for middleware in (*observer.outer_middleware, *observer.middleware)
    ]
    assert middlewares
    assert all(inspect.iscoroutinefunction(type(m).__call__) for m in middlewares), middlewares
