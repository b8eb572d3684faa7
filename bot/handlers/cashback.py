"""/cashback: totals by status, the next release with its date, the accruals page by page;
withdrawing to a saved card and moving to the balance, both confirmed by the payment password;
and the operators' Approve / Reject buttons on a withdrawal request."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.config import Settings
from bot.domain.errors import StaleButton
from bot.domain.models import Accrual, PendingOperation, UserRecord
from bot.handlers.dialogs import ask_to_confirm
from bot.handlers.filters import PrivateChat, refused_unless_operator
from bot.i18n import I18n, Translator
from bot.keyboards.callbacks import (
    CashbackAction,
    CashbackStep,
    Menu,
    MenuAction,
    WithdrawalOps,
    WithdrawalStep,
)
from bot.keyboards.cashback import (
    back_to_cashback,
    cashback_keyboard,
    pick_card_keyboard,
    reject_reasons_keyboard,
)
from bot.screens import cashback as screens
from bot.screens import show
from bot.services import Services
from bot.services.cashback import REJECT_REASONS

log = logging.getLogger(__name__)


def accrual_line(t: Translator, services: Services, accrual: Accrual) -> str:
    source = (
        t("accrual-source-order", order=accrual.order_id)
        if accrual.order_id is not None
        else t("accrual-source-certificate")
    )
    amount = accrual.amount if accrual.status != "voided" else accrual.voided
    return t(
        "accrual-line",
        date=t.date(accrual.created_at),
        source=source,
        amount=t.money(amount),
        state=screens.accrual_state(t, accrual),
    )


async def cashback_screen(
    event: Message | CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    callback_data: CashbackAction | Menu | None = None,
) -> None:
    await state.clear()
    page = callback_data.page if isinstance(callback_data, CashbackAction) else 0
    summary, accruals = await services.cashback.screen(user.id, page)
    lines = [
        t(
            "cashback-title",
            available=t.money(summary.available),
            on_hold=t.money(summary.on_hold),
            pending=t.money(summary.pending),
            minimum=t.money(services.cashback.policy.withdraw_min),
        )
    ]
    upcoming = summary.next_release
    if upcoming is not None and upcoming.hold_until is not None:
        lines.append(
            t(
                "cashback-next",
                amount=t.money(upcoming.amount),
                date=t.moment(upcoming.hold_until),
            )
        )
    lines.append("")
    if accruals.items:
        lines.append(
            t(
                "cashback-accruals",
                page=accruals.number + 1,
                pages=accruals.pages,
                lines=t.lines(accrual_line(t, services, a) for a in accruals.items),
            )
        )
    else:
        lines.append(t("cashback-empty"))
    await show(event, "\n".join(lines), cashback_keyboard(t, accruals.number, more=accruals.more))


async def withdraw(
    callback: CallbackQuery, t: Translator, user: UserRecord, services: Services
) -> None:
    """Checks the minimum first, then asks which saved card."""
    available = await services.cashback.withdrawable(user.id)
    cards = await services.cards.cards(user.id)
    text = (
        t("cashback-withdraw-pick", amount=t.money(available))
        if cards
        else t("cashback-withdraw-no-card", amount=t.money(available))
    )
    await show(callback, text, pick_card_keyboard(t, cards))


async def withdraw_to_card(
    callback: CallbackQuery,
    callback_data: CashbackAction,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    bot: Bot,
) -> None:
    operation = await services.cashback.prepare_withdrawal(user.id, callback_data.card_id)
    assert operation.amount is not None
    await show(
        callback,
        t(
            "cashback-withdraw-confirm",
            amount=t.money(operation.amount),
            last4=str(operation.payload["last4"]),
        ),
    )
    await ask_to_confirm(bot, state, t, services, operation)


async def withdrawal_requested(
    message: Message,
    t: Translator,
    services: Services,
    operation: PendingOperation,
    settings: Settings,
    i18n: I18n,
) -> None:
    """After the password: the request's number, and what happens next."""
    request = await services.cashback.withdrawal_of(operation)
    await message.answer(
        t(
            "cashback-withdraw-requested",
            request=request.id,
            amount=t.money(request.amount),
            last4=request.card_last4,
        ),
        reply_markup=back_to_cashback(t),
    )


async def move(
    callback: CallbackQuery,
    t: Translator,
    user: UserRecord,
    services: Services,
    state: FSMContext,
    bot: Bot,
) -> None:
    operation = await services.cashback.prepare_move(user.id)
    assert operation.amount is not None
    await show(
        callback,
        t("cashback-move-confirm", amount=t.money(operation.amount)),
    )
    await ask_to_confirm(bot, state, t, services, operation)


async def moved(
    message: Message,
    t: Translator,
    services: Services,
    operation: PendingOperation,
    settings: Settings,
    i18n: I18n,
) -> None:
    assert operation.amount is not None
    balances = await services.ledger.balances(operation.user_id)
    await message.answer(
        t(
            "cashback-moved",
            amount=t.money(operation.amount),
            balance=t.money(balances.balance),
            available=t.money(balances.cashback_available),
        ),
        reply_markup=back_to_cashback(t),
    )


# --- operators ------------------------------------------------------------------------------


async def withdrawal_button(
    callback: CallbackQuery,
    callback_data: WithdrawalOps,
    user: UserRecord,
    services: Services,
    settings: Settings,
    i18n: I18n,
) -> None:
    ops = i18n(i18n.default)
    if await refused_unless_operator(callback, user.id, settings, ops):
        return
    request_id = callback_data.request_id
    step = callback_data.step
    if step in (WithdrawalStep.REJECT, WithdrawalStep.BACK):
        card = screens.withdrawal_card(ops, await services.cashback.view(request_id))
        if step is WithdrawalStep.REJECT and card.keyboard is not None:  # still undecided
            card = card._replace(keyboard=reject_reasons_keyboard(ops, request_id))
        await show(callback, card)
        return
    reason = None
    if step is WithdrawalStep.REASON:
        if not 0 <= callback_data.reason < len(REJECT_REASONS):
            raise StaleButton()
        reason = REJECT_REASONS[callback_data.reason]
    await services.cashback.decide_withdrawal(
        user.id, request_id, approve=step is WithdrawalStep.APPROVE, reason=reason
    )
    await show(callback, screens.withdrawal_card(ops, await services.cashback.view(request_id)))


def create_router() -> Router:
    router = Router(name="cashback")
    private = Router(name="cashback-private")
    private.message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    private.message.register(cashback_screen, Command("cashback"))
    private.callback_query.register(cashback_screen, Menu.filter(F.action == MenuAction.CASHBACK))
    private.callback_query.register(
        cashback_screen, CashbackAction.filter(F.step == CashbackStep.HOME)
    )
    private.callback_query.register(
        withdraw, CashbackAction.filter(F.step == CashbackStep.WITHDRAW)
    )
    private.callback_query.register(
        withdraw_to_card, CashbackAction.filter(F.step == CashbackStep.CARD)
    )
    private.callback_query.register(move, CashbackAction.filter(F.step == CashbackStep.MOVE))
    operators = Router(name="cashback-operators")
    operators.callback_query.register(withdrawal_button, WithdrawalOps.filter())
    router.include_routers(private, operators)
    return router
