"""/help, /cancel and the fallbacks: every message and button gets an answer."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.menu import back_to_menu, main_menu
from bot.screens.base import show
from bot.screens.help import help_screen

log = logging.getLogger(__name__)


async def help_(message: Message, t: Translator) -> None:
    await show(message, help_screen(t))


async def privacy(message: Message, t: Translator) -> None:
    await message.answer(t("privacy-text"), reply_markup=back_to_menu(t))


async def cancel(message: Message, t: Translator, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(t("cancel-nothing"), reply_markup=main_menu(t))
        return
    await state.clear()
    await message.answer(t("cancel-done"), reply_markup=main_menu(t))


async def unknown_message(message: Message, t: Translator) -> None:
    payment = message.successful_payment or message.refunded_payment
    if payment is not None:
        # Money moved and no feature claimed it: that is for the logs, not a chat reply.
        sender = message.from_user.id if message.from_user else None
        log.warning(
            "event=payment_unclaimed user_id=%s charge_id=%s",
            sender,
            payment.telegram_payment_charge_id,
        )
        return
    text = message.text or ""
    if text.startswith("/"):
        await message.answer(t("unknown-command"))
        return
    await message.answer(t("unknown-text"), reply_markup=back_to_menu(t))


async def stale_callback(
    callback: CallbackQuery, t: Translator, callback_answer: CallbackAnswer
) -> None:
    """Forged, outdated or foreign callback data: say so, change nothing."""
    callback_answer.text = t("error-stale-action")
    callback_answer.show_alert = True


def create_router() -> Router:
    router = Router(name="common")
    router.message.filter(PrivateChat())
    router.message.register(help_, Command("help"))
    router.message.register(cancel, Command("cancel"))
    router.message.register(privacy, Command("privacy"))
    return router


def create_fallback_router() -> Router:
    """Last before errors: whatever no feature took."""
    router = Router(name="fallback")
    router.message.register(unknown_message, PrivateChat())
    router.callback_query.register(stale_callback)
    return router
