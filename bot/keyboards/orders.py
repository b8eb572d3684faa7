"""Keyboards of the order list, the order card and the operators' order message."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.models import Order
from bot.i18n import Translator
from bot.keyboards.cache import built_once
from bot.keyboards.callbacks import (
    Buy,
    BuyStep,
    Menu,
    MenuAction,
    OpsStep,
    OrderAction,
    OrderOps,
    OrderStep,
    Shop,
    ShopStep,
)


def orders_keyboard(
    t: Translator, orders: list[Order], page: int, *, more: bool
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for order in orders:
        builder.button(
            text=t("order-button", id=order.id, title=order.title[:30]),
            callback_data=OrderAction(step=OrderStep.OPEN, order_id=order.id),
        )
    nav = 0
    if page > 0:
        builder.button(text="◀️", callback_data=OrderAction(step=OrderStep.LIST, page=page - 1))
        nav += 1
    if more:
        builder.button(text="▶️", callback_data=OrderAction(step=OrderStep.LIST, page=page + 1))
        nav += 1
    builder.button(text=t("menu-shop"), callback_data=Menu(action=MenuAction.SHOP))
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(*([1] * len(orders)), *([nav] if nav else []), 2)
    return builder.as_markup()


def order_keyboard(t: Translator, order: Order) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    actions = {
        "awaiting_payment": (OrderStep.PAY, OrderStep.CANCEL),
        "paid": (OrderStep.CANCEL,),
        "shipped": (OrderStep.DISPUTE,),
        "delivered": (OrderStep.CONFIRM, OrderStep.DISPUTE),
    }.get(order.status, ())
    for step in actions:
        builder.button(
            text=t(f"order-action-{step.name.lower()}"),
            callback_data=OrderAction(step=step, order_id=order.id),
        )
    builder.button(text=t("orders-back"), callback_data=OrderAction(step=OrderStep.LIST))
    builder.adjust(*([len(actions)] if actions else []), 1)
    return builder.as_markup()


def order_reminder_keyboard(t: Translator, order_id: int) -> InlineKeyboardMarkup:
    """Under the "did it arrive?" notice: confirm at once, or look at the order first."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("order-action-confirm"),
        callback_data=OrderAction(step=OrderStep.CONFIRM, order_id=order_id),
    )
    builder.button(
        text=t("notice-order-open"),
        callback_data=OrderAction(step=OrderStep.OPEN, order_id=order_id),
    )
    builder.adjust(1)
    return builder.as_markup()


def _top_up_buttons(
    builder: InlineKeyboardBuilder, t: Translator, index: int | None, nominal: str
) -> None:
    """The smallest nominal that covers the gap (if one does), or another amount."""
    if index is not None:
        builder.button(
            text=t("order-top-up-nominal", nominal=nominal),
            callback_data=Buy(step=BuyStep.NOMINAL, index=index),
        )
    builder.button(text=t("buy-custom-button"), callback_data=Buy(step=BuyStep.CUSTOM))


def top_up_keyboard(
    t: Translator, index: int | None, nominal: str, order: Order
) -> InlineKeyboardMarkup:
    """A short balance, after Pay: the top-up, or back to the order."""
    builder = InlineKeyboardBuilder()
    _top_up_buttons(builder, t, index, nominal)
    builder.button(
        text=t("order-back"), callback_data=OrderAction(step=OrderStep.OPEN, order_id=order.id)
    )
    builder.adjust(1)
    return builder.as_markup()


def short_order_keyboard(
    t: Translator, index: int | None, nominal: str, order: Order
) -> InlineKeyboardMarkup:
    """An unpaid order the balance cannot cover: top up first (the order comes back with its
    Pay button once the certificate is paid), or cancel it."""
    builder = InlineKeyboardBuilder()
    _top_up_buttons(builder, t, index, nominal)
    builder.button(
        text=t("order-action-cancel"),
        callback_data=OrderAction(step=OrderStep.CANCEL, order_id=order.id),
    )
    builder.button(text=t("orders-back"), callback_data=OrderAction(step=OrderStep.LIST))
    builder.adjust(1)
    return builder.as_markup()


def operators_keyboard(t: Translator, order: Order) -> InlineKeyboardMarkup | None:
    steps = {
        "paid": (OpsStep.SHIP,),
        "shipped": (OpsStep.DELIVER,),
        "disputed": (OpsStep.WON, OpsStep.LOST),
    }.get(order.status, ())
    if not steps:
        return None
    builder = InlineKeyboardBuilder()
    for step in steps:
        builder.button(
            text=t(f"ops-order-{step.name.lower()}"),
            callback_data=OrderOps(step=step, order_id=order.id),
        )
    builder.adjust(len(steps))
    return builder.as_markup()


@built_once
def shop_keyboard(t: Translator, categories: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for category_id, title in categories:
        builder.button(text=title, callback_data=Shop(step=ShopStep.CATEGORY, category=category_id))
    builder.button(text=t("orders-back"), callback_data=OrderAction(step=OrderStep.LIST))
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(*([1] * len(categories)), 2)
    return builder.as_markup()


def category_keyboard(
    t: Translator, category: str, products: list[tuple[str, str]], page: int, *, more: bool
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for product_id, label in products:
        builder.button(
            text=label,
            callback_data=Shop(step=ShopStep.PRODUCT, category=category, product=product_id),
        )
    nav = 0
    for shown, delta, arrow in ((page > 0, -1, "◀️"), (more, 1, "▶️")):
        if shown:
            builder.button(
                text=arrow,
                callback_data=Shop(step=ShopStep.CATEGORY, category=category, page=page + delta),
            )
            nav += 1
    builder.button(text=t("shop-categories"), callback_data=Menu(action=MenuAction.SHOP))
    builder.adjust(*([1] * len(products)), *([nav] if nav else []), 1)
    return builder.as_markup()


def product_keyboard(
    t: Translator, category: str, product: str, quantity: int, *, available: int
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    rows = []
    if available > 0:
        for label, wanted in (
            ("➖", quantity - 1),
            (f"× {quantity}", quantity),
            ("➕", quantity + 1),
        ):
            value = min(max(wanted, 1), 10, available)
            builder.button(
                text=label,
                callback_data=Shop(
                    step=ShopStep.PRODUCT, category=category, product=product, quantity=value
                ),
            )
        builder.button(
            text=t("shop-buy"),
            callback_data=Shop(
                step=ShopStep.BUY, category=category, product=product, quantity=quantity
            ),
        )
        rows = [3, 1]
    builder.button(
        text=t("shop-back-to-list"), callback_data=Shop(step=ShopStep.CATEGORY, category=category)
    )
    builder.adjust(*rows, 1)
    return builder.as_markup()
