"""Telegram Payments: invoices, pre-checkout, charges, refunds (Stars and fiat)."""

from __future__ import annotations

import asyncio
import copy
import secrets

from bot.emulator.messages import MessagesMixin
from bot.emulator.records import PaymentOutcome
from bot.emulator.wire import ALNUM, INVOICE_PAYLOAD_LIMIT, JSON, QUERY_TOO_OLD, Args, bad_request


class PaymentsMixin(MessagesMixin):
    def payments(self) -> list[JSON]:
        return [copy.deepcopy(payment) for payment in self._payments.values()]

    async def pay_invoice(
        self,
        user_id: int,
        message_id: int,
        *,
        chat_id: int | None = None,
        answer_timeout: float = 10.0,
    ) -> PaymentOutcome:
        """Pay the invoice in this message: pre_checkout_query, the bot's answer, then the charge.

        Waits up to ``answer_timeout`` seconds for answerPreCheckoutQuery (Telegram allows 10 s).
        """
        chat = self._injection_chat(user_id, chat_id)
        record = self._live_message(chat, message_id)
        if record is None or record["invoice"] is None:
            msg = f"no invoice message {message_id} in chat {chat}"
            raise ValueError(msg)
        return await self._pay(user_id, chat, record["invoice"], message_id, answer_timeout)

    async def pay_invoice_link(
        self, user_id: int, link: str, *, answer_timeout: float = 10.0
    ) -> PaymentOutcome:
        """Pay an invoice created with createInvoiceLink (paid from the user's private chat)."""
        invoice = self._invoice_links.get(link.rsplit("$", 1)[-1])
        if invoice is None:
            msg = f"unknown invoice link {link!r}"
            raise ValueError(msg)
        chat = self._injection_chat(user_id, None)
        return await self._pay(user_id, chat, invoice, None, answer_timeout)

    async def pay_tampered(
        self,
        user_id: int,
        *,
        payload: str,
        currency: str,
        total_amount: int,
        answer_timeout: float = 10.0,
    ) -> PaymentOutcome:
        """A modified client paying an invoice it made up: any payload, currency and amount.

        Telegram would never let this through, which is why the bot must check each field.
        """
        chat = self._injection_chat(user_id, None)
        invoice = {"currency": currency, "total_amount": total_amount, "payload": payload}
        return await self._pay(user_id, chat, invoice, None, answer_timeout)

    async def pay_invoice_twice(
        self, user_id: int, message_id: int, *, answer_timeout: float = 10.0
    ) -> tuple[PaymentOutcome, PaymentOutcome]:
        """One invoice paid from two devices: both pre-checkout queries are asked before either
        is charged (Telegram allows it), then each device that got an ok is charged."""
        chat = self._injection_chat(user_id, None)
        record = self._live_message(chat, message_id)
        if record is None or record["invoice"] is None:
            msg = f"no invoice message {message_id} in chat {chat}"
            raise ValueError(msg)
        asked = [
            self._checkout(user_id, chat, record["invoice"], message_id, answer_timeout)
            for _ in range(2)
        ]
        first, second = await asyncio.gather(*asked)
        return await self._settle(first, chat), await self._settle(second, chat)

    async def _pay(
        self,
        user_id: int,
        chat_id: int,
        invoice: JSON,
        invoice_message_id: int | None,
        answer_timeout: float,
    ) -> PaymentOutcome:
        checked = await self._checkout(
            user_id, chat_id, invoice, invoice_message_id, answer_timeout
        )
        return await self._settle(checked, chat_id)

    async def _checkout(
        self,
        user_id: int,
        chat_id: int,
        invoice: JSON,
        invoice_message_id: int | None,
        answer_timeout: float,
    ) -> tuple[JSON, bool, str | None]:
        """The pre-checkout query and the bot's answer: (the payment, ok, error message)."""
        query_id = self._new_query_id()
        payment: JSON = {
            "pre_checkout_query_id": query_id,
            "user_id": user_id,
            "chat_id": chat_id,
            "invoice_message_id": invoice_message_id,
            "currency": invoice["currency"],
            "total_amount": invoice["total_amount"],
            "invoice_payload": invoice["payload"],
            "status": "pending",
            "error_message": None,
            "telegram_payment_charge_id": None,
            "provider_payment_charge_id": None,
            "message_id": None,
            "refunded": False,
            "paid_at": None,
            "refunded_at": None,
        }
        self._payments[query_id] = payment
        answer: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        self._checkouts[query_id] = answer
        await self._enqueue(
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": self._user_json(user_id),
                    "currency": invoice["currency"],
                    "total_amount": invoice["total_amount"],
                    "invoice_payload": invoice["payload"],
                }
            }
        )
        try:
            ok, error_message = await asyncio.wait_for(answer, answer_timeout)
        except TimeoutError:
            ok, error_message = False, None
            payment["status"] = "expired"
        finally:
            # A late answer finds no waiter and gets "query is too old", as on Telegram.
            self._checkouts.pop(query_id, None)
        return payment, ok, error_message

    async def _settle(self, checked: tuple[JSON, bool, str | None], chat_id: int) -> PaymentOutcome:
        payment, ok, error_message = checked
        query_id = payment["pre_checkout_query_id"]
        if not ok:
            if payment["status"] == "pending":
                payment["status"] = "declined"
            payment["error_message"] = error_message
            self._publish("payment", chat_id, payment=payment)
            return PaymentOutcome(False, payment["status"], query_id, error_message)
        return await self._charge(payment, chat_id)

    async def _charge(self, payment: JSON, chat_id: int) -> PaymentOutcome:
        self._serial += 1
        charge_id = "stx" + "".join(secrets.choice(ALNUM) for _ in range(40))
        provider_charge_id = (
            f"{payment['user_id']}_{self._serial}"
            if payment["currency"] == "XTR"
            else f"prov_{secrets.token_hex(12)}"
        )
        payment.update(
            status="paid",
            paid_at=int(self.clock()),
            telegram_payment_charge_id=charge_id,
            provider_payment_charge_id=provider_charge_id,
        )
        if payment["currency"] == "XTR" and payment["user_id"] in self._referrals:
            # The program's terms at the time of the charge: bot/emulator/stars.py.
            payment["affiliate"] = dict(self._referrals[payment["user_id"]])
        success = {
            "currency": payment["currency"],
            "total_amount": payment["total_amount"],
            "invoice_payload": payment["invoice_payload"],
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": provider_charge_id,
        }
        copies = 1
        if self._duplicate_payments > 0:
            self._duplicate_payments -= 1
            copies = 2  # Telegram occasionally delivers the same payment twice.
        first: JSON | None = None
        for _ in range(copies):
            record = self._new_record(
                chat_id,
                sender_id=payment["user_id"],
                kind="successful_payment",
                successful_payment=dict(success),
            )
            delivered = await self._deliver_user_message(record)
            first = first or delivered
            last = delivered
        assert first is not None
        payment["message_id"] = first["message_id"]
        self._publish("payment", chat_id, payment=payment)
        return PaymentOutcome(
            True,
            "paid",
            payment["pre_checkout_query_id"],
            None,
            charge_id,
            provider_charge_id,
            first["message_id"],
            last["update_id"],
        )

    async def refund_payment_update(self, user_id: int, charge_id: str) -> JSON:
        """Telegram reports a refund (e.g. after a dispute): a message with refunded_payment."""
        payment = self._payment_by_charge(user_id, charge_id)
        if payment is None:
            msg = f"no payment {charge_id!r} by user {user_id}"
            raise ValueError(msg)
        payment.update(refunded=True, status="refunded", refunded_at=int(self.clock()))
        record = self._new_record(
            payment["chat_id"],
            sender_id=user_id,
            kind="refunded_payment",
            refunded_payment={
                "currency": payment["currency"],
                "total_amount": payment["total_amount"],
                "invoice_payload": payment["invoice_payload"],
                "telegram_payment_charge_id": charge_id,
                "provider_payment_charge_id": payment["provider_payment_charge_id"],
            },
        )
        delivered = await self._deliver_user_message(record)
        self._publish("payment", payment["chat_id"], payment=payment)
        return delivered

    def _payment_by_charge(self, user_id: int, charge_id: str) -> JSON | None:
        for payment in self._payments.values():
            if payment["telegram_payment_charge_id"] == charge_id and payment["user_id"] == user_id:
                return payment
        return None

    # ------------------------------------------------------------------ API: payments

    def _invoice(self, args: Args) -> JSON:
        """The invoice parameters, validated the way Telegram does for Stars and fiat."""
        currency = args.req_str("currency").upper()
        payload = args.opt_str("payload") or ""
        if not 1 <= len(payload.encode()) <= INVOICE_PAYLOAD_LIMIT:
            raise bad_request("INVOICE_PAYLOAD_INVALID")
        prices = args.structured("prices")
        if not isinstance(prices, list) or not prices:
            raise bad_request("prices is empty")
        for price in prices:
            if not isinstance(price, dict) or not isinstance(price.get("amount"), int):
                raise bad_request("can't parse prices JSON object")
        provider_token = args.opt_str("provider_token") or ""
        if currency == "XTR":
            # Stars: no provider token and exactly one price.
            if provider_token:
                raise bad_request("PAYMENT_PROVIDER_INVALID")
            if len(prices) != 1:
                raise bad_request("STARS_INVOICE_INVALID")
        elif not provider_token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        total = sum(int(price["amount"]) for price in prices)
        if total <= 0:
            raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        return {
            "title": args.req_str("title"),
            "description": args.req_str("description"),
            "start_parameter": args.opt_str("start_parameter") or "",
            "currency": currency,
            "total_amount": total,
            "payload": payload,
            "prices": prices,
            "provider_token": provider_token,
            "photo_url": args.opt_str("photo_url"),
        }

    async def _send_invoice(self, args: Args) -> JSON:
        chat_id = self._sendable_chat(args)
        invoice = self._invoice(args)
        keyboard = self._reply_markup(args, inline_only=True)
        if keyboard is None:
            # Telegram adds the Pay button itself when the bot sends none.
            amount = (
                f"⭐️{invoice['total_amount']}"
                if invoice["currency"] == "XTR"
                else f"{invoice['total_amount']} {invoice['currency']}"
            )
            keyboard = {"inline_keyboard": [[{"text": f"Pay {amount}", "pay": True}]]}
        return self._bot_message(
            chat_id,
            "invoice",
            args,
            invoice=invoice,
            reply_markup=keyboard,
        )

    async def _create_invoice_link(self, args: Args) -> str:
        invoice = self._invoice(args)
        slug = secrets.token_urlsafe(12)
        self._invoice_links[slug] = invoice
        return f"https://t.me/${slug}"

    async def _answer_pre_checkout_query(self, args: Args) -> bool:
        query_id = args.req_str("pre_checkout_query_id")
        waiter = self._checkouts.get(query_id)
        if waiter is None or waiter.done():
            raise bad_request(QUERY_TOO_OLD)
        ok = args.flag("ok")
        error_message = args.opt_str("error_message")
        if not ok and not error_message:
            raise bad_request("ERROR_MESSAGE_EMPTY")
        waiter.set_result((ok, error_message))
        return True

    async def _refund_star_payment(self, args: Args) -> bool:
        user_id = args.req_int("user_id")
        payment = self._payment_by_charge(user_id, args.req_str("telegram_payment_charge_id"))
        if payment is None:
            raise bad_request("CHARGE_NOT_FOUND")
        if payment["refunded"]:
            raise bad_request("CHARGE_ALREADY_REFUNDED")
        payment.update(refunded=True, status="refunded", refunded_at=int(self.clock()))
        self._publish("payment", payment["chat_id"], payment=payment)
        return True
