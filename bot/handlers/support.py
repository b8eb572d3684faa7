"""Support: a ticket relays the user's messages to the operators' chat, and an operator's reply
(a Telegram reply to a relayed message) goes back to the user. Operators' commands too."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.domain.models import UserRecord
from bot.handlers.dialogs import SecretText, SupportChat
from bot.handlers.filters import OperatorsChat, PrivateChat
from bot.i18n import I18n, Translator
from bot.keyboards.callbacks import Menu, MenuAction
from bot.keyboards.menu import back_to_menu, main_menu
from bot.screens import show
from bot.services import Services

log = logging.getLogger(__name__)


class IsReply(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.reply_to_message is not None


async def open_ticket(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    if not services.support.available:
        await show(event, t("support-unavailable"), back_to_menu(t))
        return
    ticket, _ = await services.support.open_ticket(user.id)
    await state.set_state(SupportChat.open)
    await show(event, t("support-opened", ticket=str(ticket)), None)


async def relay_to_operators(
    message: Message,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    ticket = await services.support.relay(
        user.id,
        user.first_name,
        message.text or "",
        key=f"relay:{message.chat.id}:{message.message_id}",
    )
    data = await state.get_data()
    if data.get("acknowledged") != ticket:
        await state.update_data(acknowledged=ticket)
        await message.answer(t("support-sent"))


async def support_hint(message: Message, t: Translator) -> None:
    await message.answer(t("support-hint"))


async def close_ticket(
    message: Message,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    ticket = await services.support.close(user.id)
    await state.clear()
    if ticket is None:
        await message.answer(t("support-nothing-open"), reply_markup=main_menu(t))
        return
    await message.answer(t("support-closed", ticket=str(ticket)), reply_markup=main_menu(t))


async def operator_reply(message: Message, services: Services, i18n: I18n) -> None:
    """A reply to a relayed message goes to the ticket's user, in their language."""
    replied = message.reply_to_message
    if replied is None or not message.text:
        return
    ticket = await services.support.reply(
        replied.message_id, message.text, key=f"reply:{message.chat.id}:{message.message_id}"
    )
    ops = i18n(i18n.default)
    if ticket is None:
        await message.reply(ops("support-reply-unknown"))
        return
    await message.reply(ops("support-delivered", ticket=str(ticket)))


def create_router() -> Router:
    router = Router(name="support")
    private = Router(name="support-private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.message.register(open_ticket, Command("support"))
    private.callback_query.register(open_ticket, Menu.filter(F.action == MenuAction.SUPPORT))
    private.message.register(close_ticket, Command("close"))
    private.message.register(relay_to_operators, StateFilter(SupportChat.open), SecretText())
    private.message.register(support_hint, StateFilter(SupportChat.open))
    operators = Router(name="support-operators")
    operators.message.filter(OperatorsChat())
    operators.message.register(operator_reply, IsReply())
    router.include_routers(private, operators)
    return router
