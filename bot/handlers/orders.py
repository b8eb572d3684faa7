"""Orders: the list, an order's card with its history, paying with the password, cancelling,
confirming receipt and disputes; and the operators' buttons in the operators' chat."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.domain.models import PendingOperation, UserRecord
from bot.handlers.dialogs import ask_to_confirm
from bot.handlers.filters import PrivateChat, refused_unless_operator
from bot.i18n import I18n, Translator
from bot.keyboards.callbacks import (
    Menu,
    MenuAction,
    OpsStep,
    OrderAction,
    OrderOps,
    OrderStep,
)
from bot.screens import orders as screens
from bot.screens import show
from bot.services import Services
from bot.services.orders import TopUp

log = logging.getLogger(__name__)

_OPS_STATUS = {
    OpsStep.SHIP: "shipped",
    OpsStep.DELIVER: "delivered",
    OpsStep.WON: "dispute_won",
    OpsStep.LOST: "dispute_lost",
}


async def orders_list(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    callback_data: OrderAction | Menu | None = None,
) -> None:
    await state.clear()
    page = callback_data.page if isinstance(callback_data, OrderAction) else 0
    await show(event, screens.orders_list(t, await services.orders.page(user.id, page)))


async def open_order(
    callback: CallbackQuery,
    callback_data: OrderAction,
    t: Translator,
    user: UserRecord,
    services: Services,
) -> None:
    await show(
        callback, screens.card(t, await services.orders.card(user.id, callback_data.order_id))
    )


async def pay(
    callback: CallbackQuery,
    callback_data: OrderAction,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    bot: Bot,
) -> None:
    outcome = await services.orders.pay_or_top_up(user.id, callback_data.order_id)
    if isinstance(outcome, TopUp):
        await show(callback, screens.top_up(t, outcome))
        return
    await show(callback, t("order-pay-confirm", id=callback_data.order_id), None)
    await ask_to_confirm(bot, state, t, services, outcome)


async def order_paid(
    message: Message,
    t: Translator,
    services: Services,
    operation: PendingOperation,
    settings: Settings,
    i18n: I18n,
) -> None:
    """After the password: the paid order's card (the confirm step calls this by kind)."""
    order_id = int(str(operation.payload["order"]))
    await show(message, screens.paid(t, await services.orders.card(operation.user_id, order_id)))


async def buyer_change(
    callback: CallbackQuery,
    callback_data: OrderAction,
    t: Translator,
    user: UserRecord,
    services: Services,
) -> None:
    """Cancel, confirm receipt or open a dispute; the operators' card follows (outbox)."""
    change = {
        OrderStep.CANCEL: services.orders.cancel,
        OrderStep.CONFIRM: services.orders.confirm_receipt,
        OrderStep.DISPUTE: services.orders.open_dispute,
    }[callback_data.step]
    await change(user.id, callback_data.order_id)
    await show(
        callback, screens.card(t, await services.orders.card(user.id, callback_data.order_id))
    )


# --- operators ------------------------------------------------------------------------------


async def operator_button(
    callback: CallbackQuery,
    callback_data: OrderOps,
    user: UserRecord,
    services: Services,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Ship, deliver or settle from the card; the card and the buyer hear of it through the
    outbox, and a button the order has moved past is refused with its current state."""
    ops = i18n(i18n.default)
    if await refused_unless_operator(callback, user.id, settings, ops):
        return
    await services.orders.operator_action(
        user.id, callback_data.order_id, _OPS_STATUS[callback_data.step]
    )
    view = await services.orders.view(None, callback_data.order_id)
    await show(callback, screens.operators_card(ops, view))


def create_router() -> Router:
    router = Router(name="orders")
    private = Router(name="orders-private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.message.register(orders_list, Command("orders"))
    private.callback_query.register(orders_list, Menu.filter(F.action == MenuAction.ORDERS))
    private.callback_query.register(orders_list, OrderAction.filter(F.step == OrderStep.LIST))
    private.callback_query.register(open_order, OrderAction.filter(F.step == OrderStep.OPEN))
    private.callback_query.register(pay, OrderAction.filter(F.step == OrderStep.PAY))
    private.callback_query.register(
        buyer_change,
        OrderAction.filter(F.step.in_({OrderStep.CANCEL, OrderStep.CONFIRM, OrderStep.DISPUTE})),
    )
    operators = Router(name="orders-operators")
    operators.callback_query.register(operator_button, OrderOps.filter())
    router.include_routers(private, operators)
    return router
