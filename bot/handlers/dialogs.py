"""What several dialogues share: the states one feature sends a user into another's (the
password set-up, the confirm step, a support chat), the filter and reader for secret input, and
the entry to the confirm step. The one handler module others may import, beside filters.py.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.domain.errors import StaleButton
from bot.domain.models import PendingOperation
from bot.domain.money import Money
from bot.i18n import Translator
from bot.keyboards.security import cancel_keyboard
from bot.services import Services
from bot.services.security import PASSWORD_MAX, PASSWORD_MIN

log = logging.getLogger(__name__)


class Setup(StatesGroup):
    password = State()
    repeat = State()
    question = State()
    answer = State()


class Confirm(StatesGroup):
    password = State()


class SupportChat(StatesGroup):
    open = State()


class SecretText(Filter):
    """Plain text that is not a command: what a password or an answer looks like."""

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and not message.text.startswith("/")


async def take_secret(message: Message) -> str:
    """The text, and the message gone from the chat. If Telegram refuses the deletion the
    dialogue goes on; the log says so, without the secret."""
    secret = message.text or ""
    try:
        await message.delete()
    except TelegramAPIError as exc:
        log.warning(
            "event=secret_delete_failed user_id=%s message_id=%s error=%s",
            message.chat.id,
            message.message_id,
            type(exc).__name__,
        )
    return secret


async def typed_amount(state: FSMContext, services: Services) -> Money:
    """The amount this conversation holds; a button that outlived it is stale."""
    typed = (await state.get_data()).get("amount")
    if not isinstance(typed, int):
        raise StaleButton()
    return Money(typed, services.certificates.currency)


async def ask_to_confirm(
    bot: Bot, state: FSMContext, t: Translator, services: Services, operation: PendingOperation
) -> None:
    """The confirm step: the password runs ``operation``; without one, it is set up first."""
    chat_id = operation.user_id
    if not await services.security.has_password(operation.user_id):
        await state.set_state(Setup.password)
        await state.set_data({"then_confirm": operation.id})
        await bot.send_message(
            chat_id,
            f"{t('confirm-needs-password')}\n\n{t('password-setup-intro')}\n\n"
            f"{t('password-rules', min=PASSWORD_MIN, max=PASSWORD_MAX)}",
            reply_markup=cancel_keyboard(t),
        )
        return
    await state.set_state(Confirm.password)
    await state.set_data({"operation": operation.id})
    await bot.send_message(chat_id, t("confirm-prompt"), reply_markup=cancel_keyboard(t))
