"""Per-update context: the user record and their translator, loaded once per update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.i18n import I18n
from bot.services.users import UserService


class UserContextMiddleware(BaseMiddleware):
    """Outer update middleware: registers the sender and injects ``user``, ``locale`` and ``t``.

    It runs after aiogram's own context middleware, so ``event_from_user`` is already known.
    Updates without a sender (channel posts, for one) get the default locale.
    """

    def __init__(self, users: UserService, i18n: I18n) -> None:
        self.users = users
        self.i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: User | None = data.get("event_from_user")
        if sender is None or sender.is_bot:
            locale = self.i18n.default
            data["user"] = None
        else:
            user = await self.users.touch(sender.id, sender.first_name, sender.language_code)
            locale = self.i18n.pick(user.language, user.client_language)
            data["user"] = user
        data["locale"] = locale
        data["t"] = self.i18n(locale)
        return await handler(event, data)
