"""Typed callback data. It carries ids and choices only, never amounts or trust."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class MenuAction(StrEnum):
    HOME = "home"
    BALANCE = "balance"
    BUY = "buy"
    ORDERS = "orders"
    SHOP = "shop"
    CASHBACK = "cashback"
    CARDS = "cards"
    SECURITY = "security"
    SUPPORT = "support"
    LANGUAGE = "language"


class Menu(CallbackData, prefix="m"):
    action: MenuAction


class SetLanguage(CallbackData, prefix="lang"):
    code: str  # one of SUPPORTED_LOCALES; the router's filter refuses anything else


class SecurityAction(StrEnum):
    CHANGE = "change"
    FORGOT = "forgot"
    CANCEL = "cancel"


class Security(CallbackData, prefix="sec"):
    action: SecurityAction


class PickQuestion(CallbackData, prefix="q"):
    index: int  # position in QUESTION_CODES


class CardStep(StrEnum):
    ADD = "add"
    DELETE = "delete"  # asks for confirmation
    CONFIRM = "confirm"  # deletes
    LIST = "list"


class CardAction(CallbackData, prefix="card"):
    step: CardStep
    card_id: int = 0


class BuyStep(StrEnum):
    NOMINAL = "n"  # a nominal was picked (by index)
    CUSTOM = "c"  # type another amount
    FOR_SELF = "s"
    AS_GIFT = "g"
    SKIP_NOTE = "k"
    MINE = "l"  # my certificates, a page of them
    GIVE = "b"  # give part of the balance as a gift code


class Buy(CallbackData, prefix="buy"):
    step: BuyStep
    index: int = -1  # position in the nominals; -1: the amount typed in this conversation
    page: int = 0


class OrderStep(StrEnum):
    LIST = "l"
    OPEN = "o"
    PAY = "p"
    CANCEL = "c"
    CONFIRM = "r"  # confirm receipt
    DISPUTE = "d"


class OrderAction(CallbackData, prefix="ord"):
    step: OrderStep
    order_id: int = 0
    page: int = 0


class OpsStep(StrEnum):
    SHIP = "s"
    DELIVER = "v"
    WON = "w"
    LOST = "x"


class OrderOps(CallbackData, prefix="oop"):
    """An operator's button on an order's message in the operators' chat."""

    step: OpsStep
    order_id: int


class ShopStep(StrEnum):
    HOME = "h"
    CATEGORY = "c"
    PRODUCT = "p"
    BUY = "b"


class Shop(CallbackData, prefix="shop"):
    step: ShopStep
    category: str = ""
    product: str = ""
    page: int = 0
    quantity: int = 1


class HistoryPage(CallbackData, prefix="hist"):
    before: int = 0  # 0: the newest page; else entries older than this id
    export: bool = False


class CashbackStep(StrEnum):
    HOME = "h"  # the screen, at a page of accruals
    WITHDRAW = "w"  # pick a card
    CARD = "c"  # withdraw to this card: asks for the password
    MOVE = "m"  # move to the balance: asks for the password


class CashbackAction(CallbackData, prefix="cb"):
    step: CashbackStep
    page: int = 0
    card_id: int = 0


class WithdrawalStep(StrEnum):
    APPROVE = "a"
    REJECT = "r"  # shows the reasons
    REASON = "x"  # rejects with REJECT_REASONS[reason]
    BACK = "b"  # back to Approve / Reject


class WithdrawalOps(CallbackData, prefix="wop"):
    """An operator's button on a withdrawal request in the operators' chat."""

    step: WithdrawalStep
    request_id: int
    reason: int = -1


class NoticeToggle(CallbackData, prefix="ntf"):
    kind: str = ""  # one of notices.SWITCHABLE; empty: just show the screen
