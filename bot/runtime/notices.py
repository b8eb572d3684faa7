"""The notices sender: outbox rows out to Telegram, in order per chat, within Telegram's limits.

It needs the Bot, so it lives beside the poller rather than in ``bot/services/``. Rows are claimed
under a lease, rendered in the recipient's language, and marked sent right after Telegram accepts
each message. A crash between that answer and the mark is the one way a notice goes out twice:
the row is claimed again once its lease ends (``NOTICE_LEASE``). At most the messages in flight
at the moment of the crash are repeated, never more than ``NOTICE_RATE`` of them.

Limits: a chat gets at most one message a second (from the send times stored with the rows, so
every sender and a restart honour it), and this sender starts at most ``NOTICE_RATE`` messages in
any second, counting each from its start to one second after its answer, so Telegram never sees
more whatever the network does to the timing.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup

from bot.domain.models import Notice
from bot.i18n import I18n, Translator
from bot.keyboards.cashback import notice_keyboard
from bot.keyboards.orders import order_reminder_keyboard
from bot.runtime.metrics import Metrics
from bot.runtime.reconcile import REPORT as RECONCILE_REPORT
from bot.screens import Screen
from bot.screens import cashback as cashback_screens
from bot.screens import certificates as certificate_screens
from bot.screens import orders as orders_screens
from bot.screens import steps as steps_screens
from bot.screens import support as support_screens
from bot.screens.base import unmodified
from bot.services import Services
from bot.services.cashback import OPERATORS_CARD as WITHDRAWAL_CARD
from bot.services.notices import AFTER_MONEY, OPERATORS_WATCH, NoticeService, decode
from bot.services.orders import BILLED, CHANGED, OPERATORS_CARD
from bot.services.reconciliation import NANOS
from bot.services.support import PAYMENT_TICKET
from bot.services.users import UserService
from bot.storage.errors import StorageError
from bot.storage.shared_limits import SharedLimits

log = logging.getLogger(__name__)

CHAT_GAP = timedelta(seconds=1)
# Telegram refuses longer messages; several notices for one chat are split below this.
MESSAGE_LIMIT = 4000
# A notice's parameter that carries a person's own words (a support message): shown below the
# template, escaped, whatever its length.
VERBATIM = "text"
# A send that takes longer than this is given up (and retried later), well inside the lease.
SEND_TIMEOUT = 10.0

Keyboard = Callable[[Translator, dict[str, Any]], InlineKeyboardMarkup]

# Buttons under a notice, by its message key.
KEYBOARDS: dict[str, Keyboard] = {
    "notice-cashback-available": lambda t, params: notice_keyboard(t),
    "notice-order-reminder": lambda t, params: order_reminder_keyboard(t, int(params["order"])),
}


class LiveCards:
    """Notices drawn from their record as it is when they go out (an order's card shows its
    current status and only the buttons that status allows), by their template."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._cards: dict[str, Callable[[Translator, dict[str, Any]], Awaitable[Screen]]] = {
            BILLED: self._order_billed,
            CHANGED: self._order_changed,
            OPERATORS_CARD: self._operators_order,
            PAYMENT_TICKET: self._payment_ticket,
            RECONCILE_REPORT: self._reconcile_report,
            WITHDRAWAL_CARD: self._withdrawal,
            AFTER_MONEY: self._after_money,
        }

    async def draw(self, template: str, t: Translator, params: dict[str, Any]) -> Screen | None:
        card = self._cards.get(template)
        return None if card is None else await card(t, params)

    async def _order_billed(self, t: Translator, params: dict[str, Any]) -> Screen:
        view = await self.services.orders.card(None, int(params["order"]))
        return orders_screens.billed(t, view)

    async def _order_changed(self, t: Translator, params: dict[str, Any]) -> Screen:
        view = await self.services.orders.view(None, int(params["order"]))
        return orders_screens.changed(t, view, str(params["status"]))

    async def _operators_order(self, t: Translator, params: dict[str, Any]) -> Screen:
        view = await self.services.orders.view(None, int(params["order"]))
        return orders_screens.operators_card(t, view)

    async def _after_money(self, t: Translator, params: dict[str, Any]) -> Screen:
        return steps_screens.after_money(t, params["steps"])

    async def _withdrawal(self, t: Translator, params: dict[str, Any]) -> Screen:
        view = await self.services.cashback.view(int(params["request"]))
        return cashback_screens.withdrawal_card(t, view)

    async def _reconcile_report(self, t: Translator, params: dict[str, Any]) -> Screen:
        if "differences" in params:
            return certificate_screens.reconcile_report(t, params["differences"])
        # Queued before amounts were kept in billionths of a Star: whole Stars.
        legacy = [[*row[:3], int(row[3]) * NANOS] for row in params["problems"]]
        return certificate_screens.reconcile_report(t, legacy)

    async def _payment_ticket(self, t: Translator, params: dict[str, Any]) -> Screen:
        user_id = str(params["user_id"])
        charges = await self.services.certificates.recent_charges(int(user_id))
        return support_screens.payment_ticket(
            t, str(params["ticket"]), user_id, str(params["name"]), charges
        )


@dataclass
class Outgoing:
    """One message: the notices it carries, and the buttons of the last one that has any.

    A notice that shows a record (a card) goes alone, so its message can be found again."""

    ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    keyboard: InlineKeyboardMarkup | None = None
    attempts: int = 0
    kinds: set[str] = field(default_factory=set)
    card: str | None = None
    follows_card: bool = False

    @property
    def text(self) -> str:
        return "\n\n".join(self.texts)

    def _same_card(self, notice: Notice) -> bool:
        """A later state of the card this message follows: one edit shows both."""
        return self.follows_card and notice.follows_card and notice.card == self.card

    def fits(self, notice: Notice, text: str, keyboard: InlineKeyboardMarkup | None) -> bool:
        if not self.ids or self._same_card(notice):
            return True
        if self.card is not None or notice.card is not None:
            return False
        if keyboard is not None and self.keyboard is not None and keyboard != self.keyboard:
            return False  # each set of buttons stays under the notice it belongs to
        return len(self.text) + 2 + len(text) <= MESSAGE_LIMIT

    def add(self, notice: Notice, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
        if self._same_card(notice):
            self.texts.clear()  # drawn from the record as it is now: the newest draw is all
            self.keyboard = None
        self.ids.append(notice.id)
        self.texts.append(text)
        self.keyboard = keyboard or self.keyboard
        self.attempts = max(self.attempts, notice.attempts)
        self.kinds.add(notice.kind)
        self.card = notice.card
        self.follows_card = notice.follows_card


async def render(
    live: LiveCards | None, t: Translator, notice: Notice
) -> tuple[str, InlineKeyboardMarkup | None]:
    params = decode(notice.params)
    drawn = None if live is None else await live.draw(notice.template, t, params)
    if drawn is not None:
        return drawn.text, drawn.keyboard
    # A notice names days ("available from 12 March"), not minutes.
    shown = {
        name: t.date(value) if isinstance(value, datetime) else t.value(value)
        for name, value in params.items()
        if name != VERBATIM
    }
    keyboard = KEYBOARDS.get(notice.template)
    text = t(notice.template, **shown)
    if isinstance(params.get(VERBATIM), str):
        # What a person wrote goes below the template as it is (escaped), never through
        # Fluent, which refuses a placeable of more than 2,500 characters.
        text += "\n" + html.escape(params[VERBATIM], quote=False)
    return text, keyboard(t, params) if keyboard else None


async def compose(
    live: LiveCards | None, t: Translator, notices: Sequence[Notice]
) -> list[Outgoing]:
    """One chat's due notices as few messages as their length and buttons allow, in order."""
    messages = [Outgoing()]
    for notice in notices:
        text, keyboard = await render(live, t, notice)
        if not messages[-1].fits(notice, text, keyboard):
            messages.append(Outgoing())
        messages[-1].add(notice, text, keyboard)
    return messages


class SendPacer:
    """At most ``rate`` messages in any second, started evenly spaced.

    A slot is taken when a send starts and given back one second after its answer arrives, so
    however the network delays or bunches requests, Telegram never counts more than ``rate`` in
    a second. With ``shared`` (Redis), the spacing is counted across every replica, so the rate
    holds for the token however many processes send.
    """

    def __init__(self, rate: float, shared: SharedLimits | None = None) -> None:
        self.spacing = 1 / rate
        self.shared = shared
        self._slots = asyncio.Semaphore(max(1, math.floor(rate)))
        self._next_start = 0.0

    async def acquire(self) -> None:
        await self._slots.acquire()
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + self.spacing
        wait = start - now
        if self.shared is not None:
            try:
                wait = await self.shared.slot("notices", self.spacing)
            except StorageError as exc:  # this process's own pace until Redis is back
                log.warning("event=shared_pace_unreachable error=%s", exc)
        if wait > 0:
            await asyncio.sleep(wait)

    def release(self) -> None:
        asyncio.get_running_loop().call_later(1.0, self._slots.release)


class NoticeSender:
    """Claims due rows and sends them until stopped; :meth:`wake` makes it look at once."""

    def __init__(
        self,
        bot: Bot,
        notices: NoticeService,
        users: UserService,
        i18n: I18n,
        *,
        live: LiveCards | None = None,
        operators_chat: int | None = None,
        rate: float,
        poll: timedelta,
        lease: timedelta,
        max_attempts: int,
        shared: SharedLimits | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.bot = bot
        self.metrics = metrics
        self.notices = notices
        self.users = users
        self.live = live
        self.i18n = i18n
        self.operators_chat = operators_chat
        self.pacer = SendPacer(rate, shared)
        self.batch = max(1, math.ceil(rate))
        self.poll = poll.total_seconds()
        self.lease = lease
        self.send_timeout = max(1, min(SEND_TIMEOUT, lease.total_seconds() / 3))
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                claimed = await self.deliver_due()
            except StorageError as exc:
                log.warning("event=notices_claim_failed error=%s", exc)
                claimed = 0
            if claimed == 0 and not self._stopping:
                self._wake.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll)

    async def stop(self, grace: float) -> None:
        """Stop claiming; sends under way get ``grace`` seconds to be marked."""
        self._stopping = True
        self._wake.set()
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace)

    async def drain(self) -> None:
        """Wait for the sends under way (tests and the playground)."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def deliver_due(self) -> int:
        """Claim one batch and start its sends, paced; the number of rows claimed."""
        notices = await self.notices.claim(self.batch, self.lease, CHAT_GAP)
        chats: dict[int, list[Notice]] = {}
        for notice in notices:
            chats.setdefault(notice.chat_id, []).append(notice)
        for chat_id, queued in chats.items():
            t = self.i18n.for_user(await self.users.get(chat_id))
            try:
                first, *later = await compose(self.live, t, queued)
            except Exception as exc:  # a row that cannot be rendered must not block its chat
                log.exception("event=notice_render_failed chat_id=%s", chat_id)
                unsendable = Outgoing(ids=[n.id for n in queued])
                unsendable.attempts = max(n.attempts for n in queued)
                await self._back_off(chat_id, unsendable, exc)
                continue
            if later:  # the chat's next message waits its second, after this one
                await self.notices.release([i for message in later for i in message.ids])
            await self.pacer.acquire()
            task = asyncio.create_task(self._send(chat_id, first))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(notices)

    async def _send(self, chat_id: int, message: Outgoing) -> None:
        try:
            message_id = await self._deliver(chat_id, message)
        except TelegramRetryAfter as exc:
            wait = exc.retry_after
            log.warning("event=notice_flood_wait chat_id=%s retry_after=%s", chat_id, wait)
            self._count("flood_wait")
            await self._settle(self.notices.release(message.ids, timedelta(seconds=wait)))
        except TelegramForbiddenError as exc:
            await self._forbidden(chat_id, message, exc)
        except TelegramAPIError as exc:
            await self._back_off(chat_id, message, exc)
        except Exception as exc:
            log.exception("event=notice_send_crashed chat_id=%s ids=%s", chat_id, message.ids)
            await self._back_off(chat_id, message, exc)
        else:
            card_message = message_id if message.card is not None else None
            await self._settle(self.notices.mark_sent(message.ids, card_message))
            self._count("sent")
        finally:
            self.pacer.release()

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.notice(outcome)
            if outcome == "flood_wait":
                self.metrics.flood_wait("notices")

    async def _deliver(self, chat_id: int, message: Outgoing) -> int:
        """Send the message, or edit the card it follows; the id of the message it is in."""
        if message.follows_card and message.card is not None:
            shown = await self.notices.card_message(chat_id, message.card)
            if shown is not None:
                try:
                    await self.bot.edit_message_text(
                        message.text,
                        chat_id=chat_id,
                        message_id=shown,
                        reply_markup=message.keyboard,
                        request_timeout=int(self.send_timeout),
                    )
                    return shown
                except TelegramBadRequest as exc:
                    if unmodified(exc):
                        return shown
                    # Deleted, or too old to edit: the card is posted again below.
                    log.info("event=card_edit_failed chat_id=%s reason=%s", chat_id, exc.message)
        sent = await self.bot.send_message(
            chat_id,
            message.text,
            reply_markup=message.keyboard,
            request_timeout=int(self.send_timeout),
        )
        return sent.message_id

    async def _forbidden(self, chat_id: int, message: Outgoing, error: TelegramAPIError) -> None:
        """A user who blocked the bot keeps their notices until they press /start again; if
        operators acted for them (a bill, an order, a reply), the operators' chat is told."""
        user = await self.users.get(chat_id)
        if user is None:  # the operators' chat: nobody to wait for
            await self._back_off(chat_id, message, error)
            return
        log.info("event=notice_recipient_unreachable chat_id=%s", chat_id)
        self._count("unreachable")
        await self._settle(self.users.mark_unreachable(chat_id))
        await self._settle(self.notices.release(message.ids))
        if self.operators_chat is not None and message.kinds & OPERATORS_WATCH:
            await self._settle(
                self.notices.tell(
                    self.operators_chat,
                    "ops-undelivered",
                    key=f"undelivered:{message.ids[0]}",
                    user_id=str(chat_id),
                    name=user.first_name,
                )
            )
        self.wake()

    async def _back_off(self, chat_id: int, message: Outgoing, error: Exception) -> None:
        try:
            again = await self.notices.back_off(
                message.ids, message.attempts, self.max_attempts, type(error).__name__
            )
        except StorageError as exc:
            log.warning("event=notice_mark_failed chat_id=%s error=%s", chat_id, exc)
            return
        self._count("failed" if again is None else "retried")
        if again is None:
            log.error(
                "event=notice_failed chat_id=%s ids=%s attempts=%s error=%s",
                chat_id,
                message.ids,
                message.attempts,
                error,
            )
        else:
            log.warning(
                "event=notice_retry chat_id=%s ids=%s at=%s error=%s",
                chat_id,
                message.ids,
                again.isoformat(),
                error,
            )

    @staticmethod
    async def _settle(write: Awaitable[object]) -> None:
        """Record an outcome; if the database is away, the lease ends and the row comes back."""
        try:
            await write
        except StorageError as exc:
            log.warning("event=notice_mark_failed error=%s", exc)
