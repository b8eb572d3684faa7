"""Operators' commands (ADMIN_IDS only), in a private chat or the operators' chat.

Anyone else hears "unknown command", and the try is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Router
from aiogram.filters import Filter
from aiogram.types import Message

from bot.config import Settings
from bot.domain.models import Order, UserRecord
from bot.domain.money import Money
from bot.handlers.filters import OperatorsChat, PrivateChat
from bot.i18n import Translator
from bot.runtime.reconcile import StarsReconciler
from bot.runtime.refunds import StarsRefunds
from bot.screens import certificates as certificate_screens
from bot.services import Services

log = logging.getLogger(__name__)


class AdminCommand(Filter):
    async def __call__(self, message: Message) -> bool:
        return bool(message.text and message.text.startswith("/admin_"))


class Context:
    """What every operator command needs, gathered once."""

    def __init__(
        self,
        message: Message,
        t: Translator,
        operator: UserRecord,
        services: Services,
        reconciler: StarsReconciler,
        refunds: StarsRefunds,
    ) -> None:
        self.message = message
        self.t = t
        self.operator = operator
        self.services = services
        self.reconciler = reconciler
        self.refunds = refunds
        self.args = (message.text or "").split()[1:]

    async def say(self, key: str, **params: object) -> None:
        await self.message.answer(self.t(key, **params))


async def reset_password(ctx: Context) -> None:
    if len(ctx.args) != 1 or not ctx.args[0].isdigit():
        await ctx.say("admin-reset-usage")
        return
    target = int(ctx.args[0])
    cleared = await ctx.services.security.admin_reset(ctx.operator.id, target)
    await ctx.say("admin-reset-done" if cleared else "admin-reset-nothing", user_id=str(target))


async def refund(ctx: Context) -> None:
    """Refund a charge in Stars and take its money back out of the balance (see refunds.py)."""
    if len(ctx.args) != 1:
        await ctx.say("admin-refund-usage")
        return
    charge_id = ctx.args[0]
    done = await ctx.refunds.refund(charge_id, operator_id=ctx.operator.id)
    reason = ctx.t.error(done.refused) if done.refused is not None else ""
    await ctx.say(
        f"admin-refund-{done.outcome}",
        charge_id=charge_id,
        reason=reason,
        error=done.telegram_error or "",
        amount=ctx.t.money(done.amount) if done.amount is not None else "",
        user_id=str(done.user_id),
        date=ctx.t.datetime(done.refunded_at) if done.refunded_at is not None else "",
    )


async def reconcile(ctx: Context) -> None:
    report = await ctx.reconciler.run(always_report=True)
    done = ctx.t("admin-reconcile-done", count=len(report.problems))
    await ctx.message.answer(f"{done}\n\n{certificate_screens.stars_books(ctx.t, report.books)}")


async def bill(ctx: Context) -> None:
    """/admin_order USER_ID AMOUNT TITLE: a merchant billing a customer."""
    if len(ctx.args) < 3 or not ctx.args[0].isdigit():
        await ctx.say("admin-order-usage")
        return
    user_id = int(ctx.args[0])
    amount = Money.parse(ctx.args[1], ctx.services.certificates.currency)
    title = " ".join(ctx.args[2:])
    # Keyed by the command's message: a replayed update bills once.
    order = await ctx.services.orders.create(
        user_id,
        title,
        amount,
        key=f"admin-order:{ctx.message.chat.id}:{ctx.message.message_id}",
        actor=f"operator:{ctx.operator.id}",
    )
    await ctx.say("admin-order-done", id=order.id, user_id=str(user_id))


def _order_id(ctx: Context) -> int | None:
    """The first argument as an order id (``12`` or ``#12``)."""
    if not ctx.args or not ctx.args[0].lstrip("#").isdigit():
        return None
    return int(ctx.args[0].lstrip("#"))


async def _moved(ctx: Context, order: Order) -> None:
    """The operator's answer; the buyer and the operators' card hear of it through the outbox."""
    await ctx.say("admin-order-moved", id=order.id, status=ctx.t.value(order.status))


async def ship(ctx: Context) -> None:
    """/admin_ship ORDER_ID [TRACKING]"""
    order_id = _order_id(ctx)
    if order_id is None:
        await ctx.say("admin-ship-usage")
        return
    tracking = " ".join(ctx.args[1:])[:64] or None
    await _moved(
        ctx,
        await ctx.services.orders.operator_action(
            ctx.operator.id, order_id, "shipped", tracking=tracking
        ),
    )


async def deliver(ctx: Context) -> None:
    """/admin_deliver ORDER_ID"""
    order_id = _order_id(ctx)
    if order_id is None:
        await ctx.say("admin-deliver-usage")
        return
    await _moved(
        ctx, await ctx.services.orders.operator_action(ctx.operator.id, order_id, "delivered")
    )


async def dispute(ctx: Context) -> None:
    """/admin_dispute ORDER_ID won [AMOUNT] | lost"""
    order_id = _order_id(ctx)
    outcome = ctx.args[1] if len(ctx.args) > 1 else ""
    if order_id is None or outcome not in ("won", "lost"):
        await ctx.say("admin-dispute-usage")
        return
    refund = None
    if outcome == "won" and len(ctx.args) > 2:
        refund = Money.parse(ctx.args[2], ctx.services.certificates.currency)
    order = await ctx.services.orders.settle_dispute(
        ctx.operator.id, order_id, won=outcome == "won", refund=refund
    )
    await _moved(ctx, order)


COMMANDS: dict[str, Callable[[Context], Awaitable[None]]] = {
    "/admin_reset_password": reset_password,
    "/admin_refund": refund,
    "/admin_reconcile": reconcile,
    "/admin_order": bill,
    "/admin_ship": ship,
    "/admin_deliver": deliver,
    "/admin_dispute": dispute,
}


async def admin_command(
    message: Message,
    t: Translator,
    user: UserRecord | None,
    services: Services,
    settings: Settings,
    reconciler: StarsReconciler,
    refunds: StarsRefunds,
) -> None:
    name = (message.text or "").split()[0].split("@")[0]
    command = COMMANDS.get(name)
    if user is None or user.id not in settings.admin_ids:
        log.warning("event=admin_command_refused user_id=%s command=%s", message.chat.id, name)
        await message.answer(t("unknown-command"))
        return
    if command is None:
        await message.answer(t("unknown-command"))
        return
    await command(Context(message, t, user, services, reconciler, refunds))


def create_router() -> Router:
    router = Router(name="admin")
    private = Router(name="admin-private")
    private.message.filter(PrivateChat())
    private.message.register(admin_command, AdminCommand())
    operators = Router(name="admin-operators")
    operators.message.filter(OperatorsChat())
    operators.message.register(admin_command, AdminCommand())
    router.include_routers(private, operators)
    return router
