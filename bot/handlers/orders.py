"""Orders: the list, an order's card with its history, paying with the password, cancelling,
confirming receipt and disputes; and the operators' buttons in the operators' chat."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.errors import InsufficientFunds
from bot.handlers.cashback import accrual_state
from bot.handlers.confirm import ask_to_confirm
from bot.handlers.filters import PrivateChat, refused_unless_operator
from bot.handlers.render import show
from bot.i18n import I18n, Translator
from bot.keyboards.callbacks import (
    Menu,
    MenuAction,
    OpsStep,
    OrderAction,
    OrderOps,
    OrderStep,
)
from bot.keyboards.orders import (
    operators_keyboard,
    order_keyboard,
    orders_keyboard,
    top_up_keyboard,
)
from bot.models import Order, PendingOperation, UserRecord
from bot.money import Money
from bot.services import Services
from bot.services.orders import PAGE_SIZE, OrderView

log = logging.getLogger(__name__)

_OPS_STATUS = {
    OpsStep.SHIP: "shipped",
    OpsStep.DELIVER: "delivered",
    OpsStep.WON: "dispute_won",
    OpsStep.LOST: "dispute_lost",
}


def status_label(t: Translator, status: str) -> str:
    return t(f"order-status-{status.replace('_', '-')}")


def order_text(t: Translator, services: Services, view: OrderView, balance: Money | None) -> str:
    order = view.order
    money = services.orders.money
    lines = [
        t(
            "order-card",
            id=order.id,
            title=order.title,
            amount=t.money(money(order.amount)),
            status=status_label(t, order.status),
        )
    ]
    if view.cashback is not None:
        accrual = view.cashback
        lines.append(
            t(
                "order-card-cashback",
                cashback=t.money(money(accrual.amount or accrual.voided)),
                state=accrual_state(t, accrual),
            )
        )
    elif order.cashback and order.status == "awaiting_payment":
        # Not accrued until paid, but the shopper decides knowing what the goods earn.
        lines.append(
            t(
                "order-card-cashback",
                cashback=t.money(money(order.cashback)),
                state=t("accrual-pending"),
            )
        )
    if order.tracking:
        lines.append(t("order-card-tracking", tracking=order.tracking))
    if order.refunded:
        lines.append(t("order-card-refunded", amount=t.money(money(order.refunded))))
    if order.status == "awaiting_payment" and balance is not None:
        after = money(balance.minor - order.amount)
        lines.append(t("order-card-balance", balance=t.money(balance), after=t.money(after)))
    history = t.lines(
        t(
            "order-history-line",
            date=t.datetime(event.created_at),
            status=status_label(t, event.status),
        )
        for event in view.history
    )
    # A blank line before the history: Fluent trims one at the start of a message.
    lines += ["", t("order-card-history", history=history)]
    return "\n".join(lines)


async def render_order(
    event: Message | CallbackQuery, t: Translator, services: Services, user_id: int, order_id: int
) -> None:
    view = await services.orders.view(user_id, order_id)
    balances = await services.ledger.balances(user_id)
    await show(
        event, order_text(t, services, view, balances.balance), order_keyboard(t, view.order)
    )


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
    orders, total = await services.orders.page(user.id, page)
    if not orders:
        text = t("orders-empty")
    else:
        money = services.orders.money
        text = t(
            "orders-list",
            lines=t.lines(
                t(
                    "orders-line",
                    id=order.id,
                    title=order.title,
                    amount=t.money(money(order.amount)),
                    status=status_label(t, order.status),
                    date=t.date(order.created_at),
                )
                for order in orders
            ),
            page=page + 1,
            pages=max(1, -(-total // PAGE_SIZE)),
        )
    more = (page + 1) * PAGE_SIZE < total
    await show(event, text, orders_keyboard(t, orders, page, more=more))


async def open_order(
    callback: CallbackQuery,
    callback_data: OrderAction,
    t: Translator,
    user: UserRecord,
    services: Services,
) -> None:
    await render_order(callback, t, services, user.id, callback_data.order_id)


async def pay(
    callback: CallbackQuery,
    callback_data: OrderAction,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    bot: Bot,
) -> None:
    try:
        operation = await services.orders.prepare_payment(user.id, callback_data.order_id)
    except InsufficientFunds as short:
        view = await services.orders.view(user.id, callback_data.order_id)
        gap = short.params["needed"] - short.params["available"]
        nominals = services.certificates.policy.nominals
        index = next((i for i, n in enumerate(nominals) if n >= gap), None)
        text = t(
            "order-short",
            id=view.order.id,
            gap=t.money(gap),
            balance=t.money(short.params["available"]),
        )
        if index is not None:
            text += "\n" + t("order-short-suggest", nominal=t.money(nominals[index]))
        nominal = t.money(nominals[index]) if index is not None else ""
        await show(callback, text, top_up_keyboard(t, index, nominal, view.order))
        return
    await show(callback, t("order-pay-confirm", id=callback_data.order_id), None)
    await ask_to_confirm(bot, state, t, services, operation)


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
    await message.answer(t("order-paid", id=order_id))
    await render_order(message, t, services, operation.user_id, order_id)
    assert message.bot is not None
    await tell_operators(message.bot, settings, i18n, services, order_id)


async def buyer_change(
    callback: CallbackQuery,
    callback_data: OrderAction,
    t: Translator,
    user: UserRecord,
    services: Services,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Cancel, confirm receipt or open a dispute; a dispute also reaches the operators."""
    change = {
        OrderStep.CANCEL: services.orders.cancel,
        OrderStep.CONFIRM: services.orders.confirm_receipt,
        OrderStep.DISPUTE: services.orders.open_dispute,
    }[callback_data.step]
    await change(user.id, callback_data.order_id)
    await render_order(callback, t, services, user.id, callback_data.order_id)
    if callback_data.step is OrderStep.DISPUTE:
        await tell_operators(bot, settings, i18n, services, callback_data.order_id)


# --- operators ------------------------------------------------------------------------------


async def tell_operators(
    bot: Bot, settings: Settings, i18n: I18n, services: Services, order_id: int
) -> None:
    """The order's message in the operators' chat, with the buttons its status allows."""
    if settings.support_chat_id is None:
        return
    ops = i18n(i18n.default)
    view = await services.orders.view(None, order_id)
    await bot.send_message(
        settings.support_chat_id,
        operators_text(ops, services, view),
        reply_markup=operators_keyboard(ops, view.order),
    )


def operators_text(ops: Translator, services: Services, view: OrderView) -> str:
    return (
        ops("ops-order", user_id=str(view.order.user_id))
        + "\n"
        + order_text(ops, services, view, None)
    )


async def operator_button(
    callback: CallbackQuery,
    callback_data: OrderOps,
    user: UserRecord,
    services: Services,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    ops = i18n(i18n.default)
    if await refused_unless_operator(callback, user.id, settings, ops):
        return
    order = await services.orders.operator_action(
        user.id, callback_data.order_id, _OPS_STATUS[callback_data.step]
    )
    view = await services.orders.view(None, order.id)
    await show(callback, operators_text(ops, services, view), operators_keyboard(ops, order))
    await notify_buyer(bot, services, i18n, order)


async def notify_buyer(bot: Bot, services: Services, i18n: I18n, order: Order) -> None:
    buyer = await services.users.get(order.user_id)
    t = i18n.for_user(buyer)
    await bot.send_message(
        order.user_id,
        t(
            "order-notice",
            id=order.id,
            status=status_label(t, order.status),
        ),
        reply_markup=order_keyboard(t, order),
    )


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
