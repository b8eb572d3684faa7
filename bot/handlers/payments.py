"""Telegram Payments: pre-checkout, successful and refunded payments, /paysupport and /terms.

Pre-checkout must be answered within 10 seconds; a refusal's reason reaches the payer through
the errors router. A successful payment is credited once by its charge id, so a re-delivered
one changes nothing and sends nothing.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, PreCheckoutQuery

from bot.config import Settings
from bot.domain.models import ReturnedCharge, UserRecord
from bot.handlers.dialogs import SupportChat
from bot.handlers.filters import PaymentMessage, PrivateChat
from bot.i18n import I18n, Translator
from bot.keyboards.menu import back_to_menu, main_menu
from bot.runtime.refunds import StarsRefunds
from bot.screens import gifts as gift_screens
from bot.screens import orders as order_screens
from bot.screens import show
from bot.services import Services

log = logging.getLogger(__name__)


async def pre_checkout(query: PreCheckoutQuery, services: Services, bot: Bot) -> None:
    await services.certificates.check_checkout(
        query.from_user.id, query.invoice_payload, query.currency, query.total_amount
    )
    await query.answer(ok=True)


async def successful_payment(
    message: Message,
    t: Translator,
    user: UserRecord,
    services: Services,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
    refunds: StarsRefunds,
) -> None:
    payment = message.successful_payment
    assert payment is not None
    result = await services.certificates.complete_payment(
        user.id,
        payment.invoice_payload,
        payment.currency,
        payment.total_amount,
        payment.telegram_payment_charge_id,
        payment.provider_payment_charge_id,
    )
    if isinstance(result, ReturnedCharge):
        # A second payment of a purchase paid already: its money goes back, and the payer
        # hears of it through the outbox (once, whatever Telegram redelivers).
        await refunds.give_back(result)
        return
    if not result.created:
        return  # Telegram delivered this payment again: it was credited and answered before.
    amount = result.purchase.amount
    if result.gift is not None:
        me = await bot.me()
        await show(message, gift_screens.ready(t, result.gift, me.username or "", result.cashback))
        return
    await message.answer(
        t(
            "payment-credited",
            amount=t.money(amount),
            cashback=t.money(result.cashback),
            balance=t.money(result.balance),
        ),
        reply_markup=main_menu(t),
    )
    order = await services.orders.payable_now(user.id)
    if order is not None:  # topped up for this order: here it is again, ready to pay
        await show(message, order_screens.card(t, await services.orders.card(user.id, order.id)))


async def refunded_payment(
    message: Message,
    t: Translator,
    user: UserRecord,
    services: Services,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Telegram refunded a charge (a dispute, say): take its money back, once."""
    refund = message.refunded_payment
    assert refund is not None
    result = await services.certificates.take_back(refund.telegram_payment_charge_id)
    if result is None:  # the money was no longer here: the operators decide (outbox)
        return
    if result.reversed:
        await message.answer(t("refund-done", amount=t.money(result.amount)))


async def paysupport(
    message: Message,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
) -> None:
    """A payment-support ticket: the operators see the user's recent charges at once."""
    if not services.support.available:
        await message.answer(t("support-unavailable"), reply_markup=back_to_menu(t))
        return
    ticket = await services.support.open_payment_ticket(
        user.id, user.first_name, key=f"paysupport:{message.chat.id}:{message.message_id}"
    )
    await state.set_state(SupportChat.open)
    await message.answer(t("paysupport-opened", ticket=str(ticket)))


async def terms(message: Message, t: Translator, services: Services) -> None:
    policy = services.certificates.policy
    await message.answer(
        t(
            "terms-text",
            cashback=t.percent(policy.cashback_percent),
            max=t.money(policy.balance_max),
            days=policy.gift_ttl.days,
        ),
        reply_markup=back_to_menu(t),
    )


def create_router() -> Router:
    router = Router(name="payments")
    router.pre_checkout_query.register(pre_checkout)
    private = Router(name="payments-private")
    private.message.filter(PrivateChat())
    private.message.register(successful_payment, PaymentMessage("successful_payment"))
    private.message.register(refunded_payment, PaymentMessage("refunded_payment"))
    private.message.register(paysupport, Command("paysupport"))
    private.message.register(terms, Command("terms"))
    router.include_router(private)
    return router
