"""Gift codes: the card a giver shares, claiming by link, and giving from one's own balance."""

from __future__ import annotations

import re

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineQuery,
    Message,
)

from bot.config import Settings
from bot.domain.models import PendingOperation, UserRecord
from bot.handlers.dialogs import SecretText, ask_to_confirm, typed_amount
from bot.handlers.filters import PrivateChat
from bot.i18n import I18n, Translator
from bot.keyboards.callbacks import Buy, BuyStep
from bot.keyboards.certificates import (
    cancel_to_buy,
    note_keyboard,
)
from bot.keyboards.menu import main_menu
from bot.screens import gifts as gift_screens
from bot.screens import show
from bot.services import Services
from bot.services.gifts import NOTE_MAX

_GIFT_ARGS = re.compile(r"^gift_[A-Za-z0-9]{1,40}$")


class GiveFromBalance(StatesGroup):
    amount = State()
    note = State()


async def claim(
    message: Message,
    command: CommandObject,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    await state.clear()
    code = (command.args or "").removeprefix(gift_screens.GIFT_PREFIX).lower()
    claimed = await services.gifts.claim(user.id, code)
    giver = await services.users.get(claimed.gift.giver_id)
    text = t(
        "gift-claimed",
        giver=giver.first_name if giver else "—",
        amount=t.money(claimed.amount),
        balance=t.money(claimed.balance),
    )
    if claimed.gift.note:
        text += "\n\n" + t("gift-card-note", note=claimed.gift.note)
    await message.answer(text, reply_markup=main_menu(t))


async def inline_gift(
    query: InlineQuery, t: Translator, user: UserRecord, services: Services, bot: Bot
) -> None:
    """``@bot gift_<code>`` from the Share button: the giver's own card, for any chat."""
    code = query.query.strip().removeprefix(gift_screens.GIFT_PREFIX).lower()
    gift = await services.gifts.shareable(user.id, code)
    if gift is None:
        await query.answer([], cache_time=0, is_personal=True)
        return
    me = await bot.me()
    card = gift_screens.shared_card(t, gift, me.username or "")
    await query.answer([card], cache_time=0, is_personal=True)


# --- giving from the balance ------------------------------------------------------------------


async def ask_amount(
    callback: CallbackQuery, t: Translator, user: UserRecord, services: Services, state: FSMContext
) -> None:
    balances = await services.ledger.balances(user.id)
    policy = services.certificates.policy
    await state.set_state(GiveFromBalance.amount)
    await show(
        callback,
        t(
            "gift-from-balance-prompt",
            balance=t.money(balances.balance),
            min=t.money(policy.minimum),
            max=t.money(policy.maximum),
        ),
        cancel_to_buy(t),
    )


async def amount_typed(
    message: Message, t: Translator, user: UserRecord, services: Services, state: FSMContext
) -> None:
    amount = services.certificates.parse_amount(message.text or "")
    await services.gifts.check_can_give(user.id, amount)
    await state.set_state(GiveFromBalance.note)
    await state.set_data({"amount": amount.minor})
    await message.answer(
        t("gift-note-prompt", amount=t.money(amount), max=NOTE_MAX),
        reply_markup=note_keyboard(t),
    )


async def note_typed(
    message: Message,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    bot: Bot,
) -> None:
    note = services.gifts.clean_note(message.text or "")
    await _prepare(bot, t, user, services, state, note)


async def note_skipped(
    callback: CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    bot: Bot,
) -> None:
    await _prepare(bot, t, user, services, state, None)


async def _prepare(
    bot: Bot,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    note: str | None,
) -> None:
    amount = await typed_amount(state, services)
    operation = await services.gifts.prepare_from_balance(user.id, amount, note)
    await bot.send_message(user.id, t("gift-from-balance-confirm", amount=t.money(amount)))
    await ask_to_confirm(bot, state, t, services, operation)


async def gift_confirmed(
    message: Message,
    t: Translator,
    services: Services,
    operation: PendingOperation,
    settings: Settings,
    i18n: I18n,
) -> None:
    """After the password: the new gift's card (the confirm step calls this by kind)."""
    gift = await services.gifts.made_by(operation)
    me = await message.bot.me()  # type: ignore[union-attr]
    await show(message, gift_screens.ready(t, gift, me.username or ""))


async def hint_amount(message: Message, t: Translator) -> None:
    await message.answer(t("hint-gift-amount"), reply_markup=cancel_to_buy(t))


def create_router() -> Router:
    router = Router(name="gifts")
    router.inline_query.register(inline_gift, _InlineGift())
    private = Router(name="gifts-private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.message.register(claim, CommandStart(deep_link=True, magic=F.args.regexp(_GIFT_ARGS)))
    private.callback_query.register(ask_amount, Buy.filter(F.step == BuyStep.GIVE))
    private.message.register(amount_typed, StateFilter(GiveFromBalance.amount), SecretText())
    private.message.register(hint_amount, StateFilter(GiveFromBalance.amount))
    private.message.register(note_typed, StateFilter(GiveFromBalance.note), SecretText())
    private.callback_query.register(
        note_skipped, Buy.filter(F.step == BuyStep.SKIP_NOTE), StateFilter(GiveFromBalance.note)
    )
    router.include_router(private)
    return router


class _InlineGift(Filter):
    """An inline query that is a gift code from the Share button."""

    async def __call__(self, query: InlineQuery) -> bool:
        return query.query.strip().startswith(gift_screens.GIFT_PREFIX)
