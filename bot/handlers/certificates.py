"""Buying certificates: a nominal or another amount, for oneself or as a gift, then an invoice.

Callback data carries a nominal's index, never an amount; a typed amount stays in the
conversation. The invoice's payload is the purchase's random id (see the payments router).
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, LabeledPrice, Message

from bot.config import Settings
from bot.domain.errors import StaleButton
from bot.domain.models import UserRecord
from bot.domain.money import Money
from bot.handlers.dialogs import SecretText, typed_amount
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import Buy, BuyStep, Menu, MenuAction
from bot.keyboards.certificates import (
    buy_keyboard,
    cancel_to_buy,
    certificates_keyboard,
    note_keyboard,
    purpose_keyboard,
)
from bot.screens import show
from bot.screens.certificates import invoice_price
from bot.services import Services
from bot.services.gifts import NOTE_MAX


class BuyCertificate(StatesGroup):
    amount = State()
    note = State()


def price_text(t: Translator, services: Services, amount: Money) -> str:
    invoice = services.certificates.invoice_for(amount)
    return invoice_price(t, invoice.currency, invoice.amount)


async def buy_screen(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    await state.clear()
    certificates = services.certificates
    wallet = await services.cashback.wallet(user.id)  # the balance and its count, in one read
    policy = certificates.policy
    unit = Money.from_units(1, certificates.currency)
    text = t(
        "buy-intro",
        balance=t.money(wallet.balance),
        count=wallet.certificates,
        cashback=t.percent(policy.cashback_percent),
        min=t.money(policy.minimum),
        max=t.money(policy.maximum),
        rate=price_text(t, services, unit),
        unit=t.money(unit),
    )
    await show(event, text, buy_keyboard(t, policy.nominals))


async def _amount_of(callback_data: Buy, services: Services, state: FSMContext) -> Money:
    nominals = services.certificates.policy.nominals
    if 0 <= callback_data.index < len(nominals):
        return nominals[callback_data.index]
    if callback_data.index != -1:
        raise StaleButton()
    return await typed_amount(state, services)


async def pick_nominal(
    callback: CallbackQuery,
    callback_data: Buy,
    t: Translator,
    services: Services,
    state: FSMContext,
) -> None:
    amount = await _amount_of(callback_data, services, state)
    await _ask_purpose(callback, t, services, amount, callback_data.index)


async def _ask_purpose(
    event: Message | CallbackQuery, t: Translator, services: Services, amount: Money, index: int
) -> None:
    cashback = services.certificates.cashback_for(amount)
    text = t(
        "buy-purpose",
        amount=t.money(amount),
        price=price_text(t, services, amount),
        cashback=t.money(cashback),
    )
    await show(event, text, purpose_keyboard(t, index))


async def ask_custom(
    callback: CallbackQuery, t: Translator, services: Services, state: FSMContext
) -> None:
    policy = services.certificates.policy
    await state.set_state(BuyCertificate.amount)
    await show(
        callback,
        t("buy-custom-prompt", min=t.money(policy.minimum), max=t.money(policy.maximum)),
        cancel_to_buy(t),
    )


async def custom_amount(
    message: Message, t: Translator, services: Services, state: FSMContext
) -> None:
    amount = services.certificates.parse_amount(message.text or "")
    await state.set_state(None)
    await state.set_data({"amount": amount.minor})
    await _ask_purpose(message, t, services, amount, -1)


async def for_self(
    callback: CallbackQuery,
    callback_data: Buy,
    t: Translator,
    user: UserRecord,
    services: Services,
    settings: Settings,
    state: FSMContext,
    bot: Bot,
) -> None:
    amount = await _amount_of(callback_data, services, state)
    purchase = await services.certificates.create_purchase(user.id, amount, "self")
    await state.clear()
    await send_invoice(bot, t, services, settings, user.id, purchase.public_id, amount, gift=False)


async def as_gift(
    callback: CallbackQuery,
    callback_data: Buy,
    t: Translator,
    services: Services,
    state: FSMContext,
) -> None:
    amount = await _amount_of(callback_data, services, state)
    await state.set_state(BuyCertificate.note)
    await state.set_data({"amount": amount.minor})
    await show(
        callback, t("gift-note-prompt", amount=t.money(amount), max=NOTE_MAX), note_keyboard(t)
    )


async def gift_note(
    message: Message,
    t: Translator,
    user: UserRecord,
    services: Services,
    settings: Settings,
    state: FSMContext,
    bot: Bot,
) -> None:
    note = services.gifts.clean_note(message.text or "")
    await _invoice_gift(bot, t, user, services, settings, state, note)


async def skip_note(
    callback: CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    settings: Settings,
    state: FSMContext,
    bot: Bot,
) -> None:
    await _invoice_gift(bot, t, user, services, settings, state, None)


async def _invoice_gift(
    bot: Bot,
    t: Translator,
    user: UserRecord,
    services: Services,
    settings: Settings,
    state: FSMContext,
    note: str | None,
) -> None:
    amount = await typed_amount(state, services)
    purchase = await services.certificates.create_purchase(user.id, amount, "gift", note)
    await state.clear()
    await send_invoice(bot, t, services, settings, user.id, purchase.public_id, amount, gift=True)


async def send_invoice(
    bot: Bot,
    t: Translator,
    services: Services,
    settings: Settings,
    chat_id: int,
    payload: str,
    amount: Money,
    *,
    gift: bool,
) -> None:
    """Stars with an empty provider token and one price, or fiat with PAYMENT_PROVIDER_TOKEN."""
    invoice = services.certificates.invoice_for(amount)
    token = settings.payment_provider_token
    title = t("invoice-gift-title" if gift else "invoice-title", amount=t.money(amount))
    description = t(
        "invoice-description-gift" if gift else "invoice-description",
        amount=t.money(amount),
        cashback=t.money(services.certificates.cashback_for(amount)),
    )
    await bot.send_invoice(
        chat_id,
        title=title,
        description=description,
        payload=payload,
        currency=invoice.currency,
        prices=[LabeledPrice(label=title, amount=invoice.amount)],
        provider_token=token.get_secret_value() if token else "",
    )


async def my_certificates(
    callback: CallbackQuery,
    callback_data: Buy,
    t: Translator,
    user: UserRecord,
    services: Services,
) -> None:
    held = await services.certificates.page(user.id, callback_data.page)
    page = held.page
    if not page.items:
        text = t("certificates-empty")
    else:
        lines = [
            t(
                f"certificate-line-{item.source}",
                remaining=t.money(item.remaining),
                nominal=t.money(item.nominal),
                date=t.date(item.created_at),
            )
            for item in page.items
        ]
        text = t(
            "certificates-list",
            balance=t.money(held.balance),
            live=held.live,
            lines=t.lines(lines),
            page=page.number + 1,
            pages=page.pages,
        )
    await show(callback, text, certificates_keyboard(t, page.number, more=page.more))


async def hint_amount(message: Message, t: Translator, services: Services) -> None:
    policy = services.certificates.policy
    await message.answer(
        t("buy-custom-prompt", min=t.money(policy.minimum), max=t.money(policy.maximum)),
        reply_markup=cancel_to_buy(t),
    )


def create_router() -> Router:
    router = Router(name="certificates")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(buy_screen, Command("buy"))
    router.callback_query.register(buy_screen, Menu.filter(F.action == MenuAction.BUY))
    router.callback_query.register(pick_nominal, Buy.filter(F.step == BuyStep.NOMINAL))
    router.callback_query.register(ask_custom, Buy.filter(F.step == BuyStep.CUSTOM))
    router.callback_query.register(for_self, Buy.filter(F.step == BuyStep.FOR_SELF))
    router.callback_query.register(as_gift, Buy.filter(F.step == BuyStep.AS_GIFT))
    router.callback_query.register(
        skip_note, Buy.filter(F.step == BuyStep.SKIP_NOTE), StateFilter(BuyCertificate.note)
    )
    router.callback_query.register(my_certificates, Buy.filter(F.step == BuyStep.MINE))
    router.message.register(custom_amount, StateFilter(BuyCertificate.amount), SecretText())
    router.message.register(hint_amount, StateFilter(BuyCertificate.amount))
    router.message.register(gift_note, StateFilter(BuyCertificate.note), SecretText())
    return router
