"""Saved cards: list masked, add (number then expiry), delete with a confirmation.

The message with the card number is deleted as soon as it is read; the conversation keeps only
the brand, the first 6 and the last 4 digits while it asks for the expiry.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.domain.models import SavedCard, UserRecord
from bot.handlers.dialogs import SecretText, take_secret
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import CardAction, CardStep, Menu, MenuAction
from bot.keyboards.cards import cards_keyboard, confirm_delete_keyboard
from bot.keyboards.security import cancel_keyboard
from bot.screens import show
from bot.services import Services
from bot.services.cards import MAX_CARDS, CardNumber, check_number


class AddCard(StatesGroup):
    number = State()
    expiry = State()


async def cards_screen(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    await state.clear()
    await show(event, *_cards_view(t, await services.cards.cards(user.id)))


def _cards_view(t: Translator, cards: list[SavedCard]) -> tuple[str, InlineKeyboardMarkup]:
    """The saved-cards screen: the masked list (or what a card is for) and its buttons."""
    if cards:
        lines = "\n".join(f"• {card.masked}" for card in cards)
        text = t("cards-list", cards=lines, count=len(cards), limit=MAX_CARDS)
    else:
        text = t("cards-empty")
    return text, cards_keyboard(t, cards, room=len(cards) < MAX_CARDS)


async def start_adding(
    callback: CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    await services.cards.ensure_room(user.id)
    await state.set_state(AddCard.number)
    await show(callback, t("card-number-prompt"), cancel_keyboard(t))


async def card_number(message: Message, t: Translator, state: FSMContext) -> None:
    number = check_number(await take_secret(message))
    await state.set_data({"brand": number.brand, "first6": number.first6, "last4": number.last4})
    await state.set_state(AddCard.expiry)
    await message.answer(
        t("card-expiry-prompt", card=f"{number.brand} •••• {number.last4}"),
        reply_markup=cancel_keyboard(t),
    )


async def card_expiry(
    message: Message, t: Translator, user: UserRecord, services: Services, state: FSMContext
) -> None:
    data = await state.get_data()
    number = CardNumber(data["brand"], data["first6"], data["last4"])
    card = await services.cards.add(user.id, number, message.text or "")
    await state.clear()
    await message.answer(t("card-added", card=card.masked))
    text, keyboard = _cards_view(t, await services.cards.cards(user.id))
    await message.answer(text, reply_markup=keyboard)


async def ask_delete(
    callback: CallbackQuery,
    callback_data: CardAction,
    t: Translator,
    user: UserRecord,
    services: Services,
) -> None:
    card = await services.cards.card(user.id, callback_data.card_id)
    await show(
        callback, t("card-delete-confirm", card=card.masked), confirm_delete_keyboard(t, card)
    )


async def delete(
    callback: CallbackQuery,
    callback_data: CardAction,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    await services.cards.delete(user.id, callback_data.card_id)
    await cards_screen(callback, t, user, services, state)


async def hint_number(message: Message, t: Translator) -> None:
    await message.answer(t("hint-card-number"), reply_markup=cancel_keyboard(t))


async def hint_expiry(message: Message, t: Translator) -> None:
    await message.answer(t("hint-card-expiry"), reply_markup=cancel_keyboard(t))


def create_router() -> Router:
    router = Router(name="cards")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(cards_screen, Command("cards"))
    router.callback_query.register(cards_screen, Menu.filter(F.action == MenuAction.CARDS))
    router.callback_query.register(cards_screen, CardAction.filter(F.step == CardStep.LIST))
    router.callback_query.register(start_adding, CardAction.filter(F.step == CardStep.ADD))
    router.callback_query.register(ask_delete, CardAction.filter(F.step == CardStep.DELETE))
    router.callback_query.register(delete, CardAction.filter(F.step == CardStep.CONFIRM))
    router.message.register(card_number, StateFilter(AddCard.number), SecretText())
    router.message.register(card_expiry, StateFilter(AddCard.expiry), SecretText())
    router.message.register(hint_number, StateFilter(AddCard.number))
    router.message.register(hint_expiry, StateFilter(AddCard.expiry))
    return router
