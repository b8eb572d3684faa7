"""The bot's Stars account: its statement (getStarTransactions), its balance (getMyStarBalance),
affiliate commissions, and the lines that have no buyer (withdrawals, ads).

As on Telegram, a statement line carries what the bot's balance gained or lost, in whole Stars
plus billionths (``nanostar_amount``): a charge from a referred buyer comes in net of the
affiliate's commission, which the line names under ``source.affiliate``, and its refund takes
back only that net amount. The balance is summed from the emulator's own records of payments and
transfers, not from the statement it prints, so a reader that drops a line cannot agree with it.
"""

from __future__ import annotations

from bot.emulator.payments import PaymentsMixin
from bot.emulator.wire import JSON, Args

NANOS = 1_000_000_000  # billionths of a Star in one Star


def star_amount(nanos: int) -> JSON:
    """Telegram's StarAmount: whole Stars rounded towards zero, and the rest in billionths with
    the same sign (left out when there is none)."""
    whole, rest = divmod(abs(nanos), NANOS)
    sign = -1 if nanos < 0 else 1
    amount: JSON = {"amount": sign * whole}
    if rest:
        amount["nanostar_amount"] = sign * rest
    return amount


class StarsMixin(PaymentsMixin):
    def refer(self, user_id: int, affiliate_id: int, commission_per_mille: int) -> None:
        """``user_id`` came through ``affiliate_id``'s link of the bot's affiliate program: from
        now on the affiliate gets ``commission_per_mille`` ‰ of each Stars payment they make."""
        if not 1 <= commission_per_mille <= 900:
            msg = f"commission_per_mille must be 1..900, not {commission_per_mille}"
            raise ValueError(msg)
        self._ensure_user(affiliate_id)
        self._referrals[user_id] = {
            "user_id": affiliate_id,
            "commission_per_mille": commission_per_mille,
        }

    def withdraw_stars(self, stars: int) -> JSON:
        """The owner withdraws ``stars`` to Fragment (an outgoing line with no buyer)."""
        return self._transfer(
            -stars * NANOS,
            {
                "type": "fragment",
                "withdrawal_state": {
                    "type": "succeeded",
                    "date": int(self.clock()),
                    "url": "https://fragment.com/",
                },
            },
        )

    def spend_on_ads(self, stars: int) -> JSON:
        """The owner pays ``stars`` for Telegram Ads."""
        return self._transfer(-stars * NANOS, {"type": "telegram_ads"})

    def earn_commission(self, nanos: int, sponsor_id: int, commission_per_mille: int) -> JSON:
        """The bot, as an affiliate of another bot's program, receives a commission."""
        return self._transfer(
            nanos,
            {
                "type": "affiliate_program",
                "sponsor_user": self._user_json(sponsor_id),
                "commission_per_mille": commission_per_mille,
            },
        )

    def star_balance(self) -> int:
        """The bot's balance in billionths of a Star, from the records themselves."""
        total = sum(int(line["nanos"]) for line in self._star_transfers)
        for payment in self._paid_in_stars():
            net = _net(payment)
            total += net
            if payment["refunded_at"] is not None:
                total -= net
        return total

    def _transfer(self, nanos: int, partner: JSON) -> JSON:
        if nanos == 0:
            raise ValueError("a transfer moves some Stars")
        if nanos < 0 and self.star_balance() + nanos < 0:
            msg = "the bot's balance is too small for that"
            raise ValueError(msg)
        self._serial += 1
        line = {
            "id": f"emu-transfer-{self._serial}",
            "date": int(self.clock()),
            "nanos": nanos,
            "partner": partner,
        }
        self._star_transfers.append(line)
        self._changed()
        return dict(line)

    def _paid_in_stars(self) -> list[JSON]:
        return [
            payment
            for payment in self._payments.values()
            if payment["currency"] == "XTR" and payment["paid_at"] is not None
        ]

    # ------------------------------------------------------------------ API

    async def _get_my_star_balance(self, args: Args) -> JSON:
        return star_amount(self.star_balance())

    async def _get_star_transactions(self, args: Args) -> JSON:
        """The statement, oldest first, as the Bot API gives it: incoming lines under
        ``source``, outgoing ones under ``receiver``, amounts always positive."""
        offset = max(args.opt_int("offset") or 0, 0)
        limit = min(max(args.opt_int("limit") or 100, 1), 100)
        lines: list[tuple[int, int, JSON]] = []
        for payment in self._paid_in_stars():
            net = _net(payment)
            partner = self._buyer(payment, refund=False)
            line = {"id": payment["telegram_payment_charge_id"], "date": payment["paid_at"]}
            lines.append((payment["paid_at"], len(lines), line | _sided(net, partner)))
            if payment["refunded_at"] is not None:
                partner = self._buyer(payment, refund=True)
                line = {"id": payment["telegram_payment_charge_id"], "date": payment["refunded_at"]}
                lines.append((payment["refunded_at"], len(lines), line | _sided(-net, partner)))
        for transfer in self._star_transfers:
            line = {"id": transfer["id"], "date": transfer["date"]}
            sided = _sided(transfer["nanos"], dict(transfer["partner"]))
            lines.append((transfer["date"], len(lines), line | sided))
        lines.sort(key=lambda item: item[:2])
        return {"transactions": [line for _, _, line in lines[offset : offset + limit]]}

    def _buyer(self, payment: JSON, *, refund: bool) -> JSON:
        partner: JSON = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": self._user_json(payment["user_id"]),
            "invoice_payload": payment["invoice_payload"],
        }
        affiliate = payment.get("affiliate")
        if affiliate is not None:
            commission = _commission(payment)
            partner["affiliate"] = {
                "affiliate_user": self._user_json(affiliate["user_id"]),
                "commission_per_mille": affiliate["commission_per_mille"],
            } | star_amount(-commission if refund else commission)
        return partner


def _commission(payment: JSON) -> int:
    """The affiliate's share of a payment in billionths of a Star: exact, since a charge is a
    whole number of Stars and the share is in per mille."""
    affiliate = payment.get("affiliate")
    if affiliate is None:
        return 0
    return int(payment["total_amount"]) * int(affiliate["commission_per_mille"]) * (NANOS // 1000)


def _net(payment: JSON) -> int:
    """What reached the bot's balance: the charge less the affiliate's share."""
    return int(payment["total_amount"]) * NANOS - _commission(payment)


def _sided(nanos: int, partner: JSON) -> JSON:
    side = "source" if nanos > 0 else "receiver"
    return {side: partner} | star_amount(abs(nanos))
