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
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import I18n, Translator
from bot.keyboards.cashback import notice_keyboard, withdrawal_ops_keyboard
from bot.keyboards.orders import order_reminder_keyboard
from bot.models import Notice
from bot.money import Money
from bot.services.notices import NoticeService, decode
from bot.services.users import UserService
from bot.storage.errors import StorageError

log = logging.getLogger(__name__)

CHAT_GAP = timedelta(seconds=1)
# Telegram refuses longer messages; several notices for one chat are split below this.
MESSAGE_LIMIT = 4000
# A send that takes longer than this is given up (and retried later), well inside the lease.
SEND_TIMEOUT = 10.0

Keyboard = Callable[[Translator, dict[str, Any]], InlineKeyboardMarkup]

# Buttons under a notice, by its message key.
KEYBOARDS: dict[str, Keyboard] = {
    "notice-cashback-available": lambda t, params: notice_keyboard(t),
    "ops-withdrawal": lambda t, params: withdrawal_ops_keyboard(t, int(params["request"])),
    "notice-order-reminder": lambda t, params: order_reminder_keyboard(t, int(params["order"])),
}


@dataclass
class Outgoing:
    """One message: the notices it carries, and the buttons of the last one that has any."""

    ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    keyboard: InlineKeyboardMarkup | None = None
    attempts: int = 0

    @property
    def text(self) -> str:
        return "\n\n".join(self.texts)

    def fits(self, text: str, keyboard: InlineKeyboardMarkup | None) -> bool:
        if not self.ids:
            return True
        if keyboard is not None and self.keyboard is not None and keyboard != self.keyboard:
            return False  # each set of buttons stays under the notice it belongs to
        return len(self.text) + 2 + len(text) <= MESSAGE_LIMIT

    def add(self, notice: Notice, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
        self.ids.append(notice.id)
        self.texts.append(text)
        self.keyboard = keyboard or self.keyboard
        self.attempts = max(self.attempts, notice.attempts)


def render(t: Translator, notice: Notice) -> tuple[str, InlineKeyboardMarkup | None]:
    params = decode(notice.params)
    shown: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Money):
            shown[name] = t.money(value)
        elif isinstance(value, datetime):
            shown[name] = t.date(value)
        else:
            shown[name] = value
    keyboard = KEYBOARDS.get(notice.template)
    return t(notice.template, **shown), keyboard(t, params) if keyboard else None


def compose(t: Translator, notices: Sequence[Notice]) -> list[Outgoing]:
    """One chat's due notices as few messages as their length and buttons allow, in order."""
    messages = [Outgoing()]
    for notice in notices:
        text, keyboard = render(t, notice)
        if not messages[-1].fits(text, keyboard):
            messages.append(Outgoing())
        messages[-1].add(notice, text, keyboard)
    return messages


class SendPacer:
    """At most ``rate`` messages in any second, started evenly spaced.

    A slot is taken when a send starts and given back one second after its answer arrives, so
    however the network delays or bunches requests, Telegram never counts more than ``rate`` in
    a second.
    """

    def __init__(self, rate: float) -> None:
        self.spacing = 1 / rate
        self._slots = asyncio.Semaphore(max(1, math.floor(rate)))
        self._next_start = 0.0

    async def acquire(self) -> None:
        await self._slots.acquire()
        now = time.monotonic()
        start = max(now, self._next_start)
        self._next_start = start + self.spacing
        if start > now:
            await asyncio.sleep(start - now)

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
        rate: float,
        poll: timedelta,
        lease: timedelta,
        max_attempts: int,
    ) -> None:
        self.bot = bot
        self.notices = notices
        self.users = users
        self.i18n = i18n
        self.pacer = SendPacer(rate)
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
                first, *later = compose(t, queued)
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
            await self.bot.send_message(
                chat_id,
                message.text,
                reply_markup=message.keyboard,
                request_timeout=int(self.send_timeout),
            )
        except TelegramRetryAfter as exc:
            wait = exc.retry_after
            log.warning("event=notice_flood_wait chat_id=%s retry_after=%s", chat_id, wait)
            await self._settle(self.notices.release(message.ids, timedelta(seconds=wait)))
        except TelegramForbiddenError as exc:
            await self._forbidden(chat_id, message, exc)
        except TelegramAPIError as exc:
            await self._back_off(chat_id, message, exc)
        except Exception as exc:
            log.exception("event=notice_send_crashed chat_id=%s ids=%s", chat_id, message.ids)
            await self._back_off(chat_id, message, exc)
        else:
            await self._settle(self.notices.mark_sent(message.ids))
        finally:
            self.pacer.release()

    async def _forbidden(self, chat_id: int, message: Outgoing, error: TelegramAPIError) -> None:
        """A user who blocked the bot keeps their notices until they press /start again."""
        if await self.users.get(chat_id) is None:  # the operators' chat: nobody to wait for
            await self._back_off(chat_id, message, error)
            return
        log.info("event=notice_recipient_unreachable chat_id=%s", chat_id)
        await self._settle(self.users.mark_unreachable(chat_id))
        await self._settle(self.notices.release(message.ids))

    async def _back_off(self, chat_id: int, message: Outgoing, error: Exception) -> None:
        try:
            again = await self.notices.back_off(
                message.ids, message.attempts, self.max_attempts, type(error).__name__
            )
        except StorageError as exc:
            log.warning("event=notice_mark_failed chat_id=%s error=%s", chat_id, exc)
            return
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
