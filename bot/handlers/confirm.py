"""Confirming a spend with the payment password: the one step every paying feature uses.

A feature's service creates a pending operation (what, for whom, how much); its handler calls
:func:`ask_to_confirm`; the user's password (deleted from the chat at once) runs the operation
by its id, exactly once. A user without a password sets one up first and is then asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.config import Settings
from bot.domain.models import PendingOperation, UserRecord
from bot.handlers.dialogs import Confirm, SecretText, take_secret
from bot.handlers.filters import PrivateChat
from bot.i18n import I18n, Translator
from bot.keyboards.menu import main_menu
from bot.keyboards.security import cancel_keyboard
from bot.services import Services

# What a feature shows once its operation has run, by the operation's kind.
FollowUp = Callable[
    [Message, Translator, Services, PendingOperation, Settings, I18n], Awaitable[None]
]


def _confirm_handler(follow_ups: Mapping[str, FollowUp]) -> Callable[..., Awaitable[None]]:
    async def confirm(
        message: Message,
        t: Translator,
        user: UserRecord,
        services: Services,
        state: FSMContext,
        settings: Settings,
        i18n: I18n,
    ) -> None:
        secret = await take_secret(message)
        data = await state.get_data()
        operation = await services.security.confirm_operation(
            user.id, str(data.get("operation")), secret
        )
        await state.clear()
        follow_up = follow_ups.get(operation.kind)
        if follow_up is not None:
            await follow_up(message, t, services, operation, settings, i18n)
            return
        await message.answer(t("confirm-done"), reply_markup=main_menu(t))

    return confirm


async def hint(message: Message, t: Translator) -> None:
    await message.answer(t("hint-password-current"), reply_markup=cancel_keyboard(t))


def create_router(follow_ups: Mapping[str, FollowUp] | None = None) -> Router:
    router = Router(name="confirm")
    router.message.filter(PrivateChat())
    router.message.register(
        _confirm_handler(dict(follow_ups or {})), StateFilter(Confirm.password), SecretText()
    )
    router.message.register(hint, StateFilter(Confirm.password))
    return router
