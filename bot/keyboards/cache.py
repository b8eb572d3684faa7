"""Keyboards built once per language and arguments.

aiogram's builder deep-copies every button on export, so the main menu costs about half a
millisecond each time. A keyboard depends only on the translator (one per language) and its
arguments, and aiogram never changes a markup it sends, so the same object can answer everyone,
and the session keeps its wire form too (``seal``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from aiogram.types import InlineKeyboardMarkup

from bot.runtime.telegram_session import seal

P = ParamSpec("P")

# Enough for every language times every page anyone reads; old entries fall out.
CACHED_KEYBOARDS = 256


def built_once(build: Callable[P, InlineKeyboardMarkup]) -> Callable[P, InlineKeyboardMarkup]:
    """Cache a keyboard whose arguments are hashable: a translator, pages, flags, tuples."""

    @functools.lru_cache(maxsize=CACHED_KEYBOARDS)
    def sealed(*args: P.args, **kwargs: P.kwargs) -> InlineKeyboardMarkup:
        return seal(build(*args, **kwargs))

    return functools.update_wrapper(sealed, build)  # type: ignore[return-value]
