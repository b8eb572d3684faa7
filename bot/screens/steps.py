"""What an update did to the money, in words: told when its own answer could not be shown
(Telegram down, a fault after the commit), instead of a "nothing was charged" that is false."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import Translator
from bot.screens.base import Screen
from bot.services.notices import AFTER_MONEY

# Entry kinds a person's own update commits, and the words for each; the number after the last
# colon of the key names the record (order-pay:12 is order #12).
STEP_WORDS = {
    "order_payment": "step-order-paid",
    "order_refund": "step-order-refunded",
    "cashback_withdrawal": "step-withdrawal-requested",
    "cashback_to_balance": "step-cashback-moved",
    "gift_from_balance": "step-gift-made",
    "gift_claim": "step-gift-claimed",
    "certificate_purchase": "step-certificate-credited",
    "gift_purchase": "step-gift-made",
}


def after_money(t: Translator, steps: Sequence[Sequence[str]]) -> Screen:
    lines = []
    for kind, key in steps:
        words = STEP_WORDS.get(kind)
        if words is None:
            continue  # the cashback that goes with a payment, say: its step says enough
        record = key.rsplit(":", 1)[-1]
        lines.append("• " + t(words, id=record if record.isdigit() else ""))
    if not lines:
        lines.append("• " + t("step-other"))
    return Screen(t(AFTER_MONEY, steps=t.lines(lines)))
