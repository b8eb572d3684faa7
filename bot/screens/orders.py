"""Orders as the buyer and the operators see them: the card with its history, the list, and
the notices about a change."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from bot.domain.models import Order, Page
from bot.i18n import Translator
from bot.keyboards.orders import (
    operators_keyboard,
    order_keyboard,
    orders_keyboard,
    short_order_keyboard,
    top_up_keyboard,
)
from bot.screens.base import Screen
from bot.screens.cashback import accrual_state
from bot.services.orders import OrderView, TopUp


def status_label(t: Translator, status: str) -> str:
    return t(f"order-status-{status.replace('_', '-')}")


def order_text(t: Translator, view: OrderView) -> str:
    """The card: what, how much, its status and cashback, and its history. With the buyer's
    balance, an unpaid order also says what paying it leaves."""
    order, balance = view.order, view.balance
    lines = [
        t(
            "order-card",
            id=order.id,
            title=order.title,
            amount=t.money(order.amount),
            status=status_label(t, order.status),
        )
    ]
    if view.cashback is not None:
        accrual = view.cashback
        lines.append(
            t(
                "order-card-cashback",
                cashback=t.money(accrual.amount or accrual.voided),
                state=accrual_state(t, accrual),
            )
        )
    elif order.cashback.minor and order.status == "awaiting_payment":
        # Not accrued until paid, but the shopper decides knowing what the goods earn.
        lines.append(
            t("order-card-cashback", cashback=t.money(order.cashback), state=t("accrual-pending"))
        )
    if order.tracking:
        lines.append(t("order-card-tracking", tracking=order.tracking))
    if order.refunded.minor:
        lines.append(t("order-card-refunded", amount=t.money(order.refunded)))
    if view.top_up is not None:  # never a negative "after payment": what is missing instead
        short = view.top_up
        lines.append(t("order-card-short", balance=t.money(short.balance), gap=t.money(short.gap)))
    elif order.status == "awaiting_payment" and balance is not None:
        after = t.money(balance - order.amount)
        lines.append(t("order-card-balance", balance=t.money(balance), after=after))
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


def card(t: Translator, view: OrderView) -> Screen:
    """The buyer's card, with the buttons its status allows; when the balance is short, the
    top-up comes at once instead of a Pay button that could only refuse."""
    return Screen(order_text(t, view), _buyer_keyboard(t, view))


def _buyer_keyboard(t: Translator, view: OrderView) -> InlineKeyboardMarkup:
    if view.top_up is None:
        return order_keyboard(t, view.order)
    short = view.top_up
    nominal = t.money(short.nominal) if short.nominal is not None else ""
    return short_order_keyboard(t, short.nominal_index, nominal, view.order)


def top_up(t: Translator, short: TopUp) -> Screen:
    """A balance short of the order: by how much, and the certificate that closes the gap."""
    text = t(
        "order-short", id=short.order.id, gap=t.money(short.gap), balance=t.money(short.balance)
    )
    if short.nominal is not None:
        text += "\n" + t("order-short-suggest", nominal=t.money(short.nominal))
    nominal = t.money(short.nominal) if short.nominal is not None else ""
    return Screen(text, top_up_keyboard(t, short.nominal_index, nominal, short.order))


def paid(t: Translator, view: OrderView) -> Screen:
    """Paid with the password: what it left on the balance, then the card."""
    assert view.balance is not None, "drawn from OrderService.card"
    text = t("order-paid", id=view.order.id, balance=t.money(view.balance))
    return Screen(text + "\n\n" + order_text(t, view), _buyer_keyboard(t, view))


def billed(t: Translator, view: OrderView) -> Screen:
    """An operator's bill, as the buyer receives it."""
    return Screen(t("order-billed") + "\n\n" + order_text(t, view), _buyer_keyboard(t, view))


def changed(t: Translator, view: OrderView, status: str) -> Screen:
    """The buyer hears of a change someone else made (an operator, the scheduler), with the
    buttons the order's current status allows. A completion says whether it came by itself
    and when the goods' cashback becomes available."""
    order = view.order
    lines = [t("order-notice", id=order.id, status=status_label(t, status))]
    completed_by_system = any(
        event.status == "completed" and event.actor == "system" for event in view.history
    )
    if status == "completed" and completed_by_system:
        lines.append(t("order-notice-auto-completed"))
    accrual = view.cashback
    settled = status in ("completed", "dispute_lost", "dispute_won")
    if settled and accrual is not None and accrual.amount.minor:
        lines.append(
            t(
                "order-card-cashback",
                cashback=t.money(accrual.amount),
                state=accrual_state(t, accrual),
            )
        )
    return Screen("\n".join(lines), order_keyboard(t, order))


def operators_card(ops: Translator, view: OrderView) -> Screen:
    """The order's card in the operators' chat: who bought it, its state in words, and only
    the buttons that state allows."""
    buyer = view.buyer or "—"
    text = (
        ops("ops-order", user_id=str(view.order.user_id), name=buyer) + "\n" + order_text(ops, view)
    )
    return Screen(text, operators_keyboard(ops, view.order))


def orders_list(t: Translator, page: Page[Order]) -> Screen:
    if not page.items:
        text = t("orders-empty")
    else:
        text = t(
            "orders-list",
            lines=t.lines(
                t(
                    "orders-line",
                    id=order.id,
                    title=order.title,
                    amount=t.money(order.amount),
                    status=status_label(t, order.status),
                    date=t.date(order.created_at),
                )
                for order in page.items
            ),
            page=page.number + 1,
            pages=page.pages,
        )
    return Screen(text, orders_keyboard(t, page.items, page.number, more=page.more))
