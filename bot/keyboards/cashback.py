"""Keyboards of the cashback screen, the withdrawal steps, the operators' buttons on a
withdrawal request, and the notifications switches."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.domain.models import SavedCard
from bot.i18n import Translator
from bot.keyboards.cache import built_once
from bot.keyboards.callbacks import (
    CardAction,
    CardStep,
    CashbackAction,
    CashbackStep,
    Menu,
    MenuAction,
    NoticeToggle,
    WithdrawalOps,
    WithdrawalStep,
)
from bot.services.cashback import REJECT_REASONS


@built_once
def cashback_keyboard(t: Translator, page: int, *, more: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("cashback-withdraw-button"), callback_data=CashbackAction(step=CashbackStep.WITHDRAW)
    )
    builder.button(
        text=t("cashback-move-button"), callback_data=CashbackAction(step=CashbackStep.MOVE)
    )
    pages = 0
    if page > 0:
        builder.button(
            text="◀️",
            callback_data=CashbackAction(step=CashbackStep.HOME, page=page - 1),
        )
        pages += 1
    if more:
        builder.button(
            text="▶️", callback_data=CashbackAction(step=CashbackStep.HOME, page=page + 1)
        )
        pages += 1
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(2, *([pages] if pages else []), 1)
    return builder.as_markup()


@built_once
def notice_keyboard(t: Translator) -> InlineKeyboardMarkup:
    """Under the "cashback available" notice: act on it at once."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("cashback-withdraw-button"), callback_data=CashbackAction(step=CashbackStep.WITHDRAW)
    )
    builder.button(
        text=t("cashback-move-button"), callback_data=CashbackAction(step=CashbackStep.MOVE)
    )
    builder.button(text=t("cashback-open-button"), callback_data=Menu(action=MenuAction.CASHBACK))
    builder.adjust(2, 1)
    return builder.as_markup()


def pick_card_keyboard(t: Translator, cards: list[SavedCard]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for card in cards:
        builder.button(
            text=card.masked, callback_data=CashbackAction(step=CashbackStep.CARD, card_id=card.id)
        )
    if not cards:
        builder.button(text=t("card-add-button"), callback_data=CardAction(step=CardStep.ADD))
    builder.button(text=t("cashback-back"), callback_data=Menu(action=MenuAction.CASHBACK))
    builder.adjust(1)
    return builder.as_markup()


@built_once
def back_to_cashback(t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("cashback-back"), callback_data=Menu(action=MenuAction.CASHBACK))
    return builder.as_markup()


def withdrawal_ops_keyboard(t: Translator, request_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("ops-withdrawal-approve"),
        callback_data=WithdrawalOps(step=WithdrawalStep.APPROVE, request_id=request_id),
    )
    builder.button(
        text=t("ops-withdrawal-reject"),
        callback_data=WithdrawalOps(step=WithdrawalStep.REJECT, request_id=request_id),
    )
    builder.adjust(2)
    return builder.as_markup()


def reject_reasons_keyboard(t: Translator, request_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, reason in enumerate(REJECT_REASONS):
        builder.button(
            text=t(f"withdrawal-reason-{reason.replace('_', '-')}"),
            callback_data=WithdrawalOps(
                step=WithdrawalStep.REASON, request_id=request_id, reason=index
            ),
        )
    builder.button(
        text=t("ops-withdrawal-back"),
        callback_data=WithdrawalOps(step=WithdrawalStep.BACK, request_id=request_id),
    )
    builder.adjust(1)
    return builder.as_markup()


@built_once
def notifications_keyboard(
    t: Translator, kinds: tuple[str, ...], muted: frozenset[str]
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind in kinds:
        mark = "🔕" if kind in muted else "🔔"
        label = t(f"notifications-kind-{kind.replace('_', '-')}")
        builder.button(
            text=f"{mark} {label}",
            callback_data=NoticeToggle(kind=kind),
        )
    builder.button(text=t("menu-back"), callback_data=Menu(action=MenuAction.HOME))
    builder.adjust(1)
    return builder.as_markup()
