"""Support: a ticket relays the user's messages to the operators' chat, and an operator's reply
(a Telegram reply to a relayed message) goes back to the user. Operators' commands too."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.handlers.filters import PrivateChat
from bot.handlers.render import show
from bot.handlers.security import SecretText
from bot.i18n import I18n, Translator
from bot.keyboards.callbacks import Menu, MenuAction
from bot.keyboards.menu import back_to_menu, main_menu
from bot.models import UserRecord
from bot.services import Services

log = logging.getLogger(__name__)


class SupportChat(StatesGroup):
    open = State()


class OperatorsChat(Filter):
    """A message in the operators' chat (SUPPORT_CHAT_ID)."""

    async def __call__(self, message: Message, settings: Settings) -> bool:
        return settings.support_chat_id is not None and message.chat.id == settings.support_chat_id


class IsReply(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.reply_to_message is not None


async def open_ticket(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> None:
    if settings.support_chat_id is None:
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
    settings: Settings,
    i18n: I18n,
    bot: Bot,
    state: FSMContext,
) -> None:
    assert settings.support_chat_id is not None
    ticket, _ = await services.support.open_ticket(user.id)
    ops = i18n(i18n.default)
    sent = await bot.send_message(
        settings.support_chat_id,
        ops(
            "support-relayed",
            ticket=str(ticket),
            user_id=str(user.id),
            name=user.first_name,
            text=message.text or "",
        ),
    )
    await services.support.relayed(ticket, sent.message_id)
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
    settings: Settings,
    i18n: I18n,
    bot: Bot,
    state: FSMContext,
) -> None:
    ticket = await services.support.close(user.id)
    await state.clear()
    if ticket is None:
        await message.answer(t("support-nothing-open"), reply_markup=main_menu(t))
        return
    if settings.support_chat_id is not None:
        ops = i18n(i18n.default)
        await bot.send_message(
            settings.support_chat_id, ops("support-closed-ops", ticket=str(ticket))
        )
    await message.answer(t("support-closed", ticket=str(ticket)), reply_markup=main_menu(t))


async def operator_reply(message: Message, services: Services, i18n: I18n, bot: Bot) -> None:
    """A reply to a relayed message goes to the ticket's user, in their language."""
    replied = message.reply_to_message
    if replied is None or not message.text:
        return
    target = await services.support.reply_target(replied.message_id)
    ops = i18n(i18n.default)
    if target is None:
        await message.reply(ops("support-reply-unknown"))
        return
    ticket, user_id = target
    t = i18n.for_user(await services.users.get(user_id))
    await bot.send_message(user_id, t("support-reply", ticket=str(ticket), text=message.text))
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
