"""The one place where failures become messages: domain errors and the unexpected."""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Bot, Router
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import ExceptionTypeFilter, Filter
from aiogram.types import ErrorEvent, Update

from bot.domain.errors import DomainError, TransientFault
from bot.i18n import I18n, Translator
from bot.services import Services
from bot.services.notices import ACCOUNT

log = logging.getLogger(__name__)


async def _tell(bot: Bot, update: Update, text: str) -> None:
    """Answer where the user is looking: an alert on a button, a message otherwise."""
    try:
        if update.callback_query is not None:
            await bot.answer_callback_query(update.callback_query.id, text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            # Groups the bot otherwise ignores never hear about its failures.
            await bot.send_message(update.message.chat.id, text)
        elif update.pre_checkout_query is not None:
            await bot.answer_pre_checkout_query(
                update.pre_checkout_query.id, ok=False, error_message=text
            )
    except TelegramAPIError as exc:
        log.warning("event=error_reply_failed update_id=%s error=%s", update.update_id, exc)


async def _money_moved(event: ErrorEvent, bot: Bot, services: Services) -> bool:
    """The update committed money steps before it failed (a retry after a lost answer, say):
    the person hears what did happen, through the outbox, which outlasts a Telegram outage.
    Never "nothing was charged", never an error for work that was done."""
    update = event.update
    sender = _sender(update)
    if sender is None or _chat_type(update) != "private":
        return False
    steps = await services.ledger.steps_of_update(update.update_id)
    if not steps:
        return False
    log.warning(
        "event=answer_replaced_by_steps update_id=%s user_id=%s steps=%d error=%s",
        update.update_id,
        sender,
        len(steps),
        type(event.exception).__name__,
    )
    await services.notices.tell_steps(sender, update.update_id, steps, kind=ACCOUNT)
    if update.callback_query is not None:
        with suppress(TelegramAPIError):
            await bot.answer_callback_query(update.callback_query.id)
    return True


async def domain_error(
    event: ErrorEvent, bot: Bot, i18n: I18n, services: Services, t: Translator | None = None
) -> None:
    error = event.exception
    assert isinstance(error, DomainError)
    if await _money_moved(event, bot, services):
        return
    t = t or i18n(i18n.default)
    await _tell(bot, event.update, t.error(error))


# What Telegram says when an update is handled a second time (a restart replays the last one).
_BENIGN = ("query is too old", "message is not modified")


class BenignReplay(Filter):
    async def __call__(self, event: ErrorEvent) -> bool:
        error = event.exception
        return isinstance(error, TelegramBadRequest) and any(
            marker in error.message for marker in _BENIGN
        )


async def benign_replay(event: ErrorEvent) -> None:
    """The work was done the first time; the user already saw the result."""
    log.debug(
        "event=replay_ignored update_id=%s reason=%s",
        event.update.update_id,
        getattr(event.exception, "message", ""),
    )


async def user_blocked_bot(event: ErrorEvent, services: Services) -> None:
    """403 while answering an update: the sender blocked the bot. Nothing can reach them;
    remember it, and say nothing.

    An update answers only where it came from; everyone else hears through the outbox, whose
    sender charges a 403 to the recipient. So only a private chat's 403 is its sender's; in a
    group (the operators' chat, say) it means the bot was removed, not that the sender left.
    """
    update = event.update
    sender = _sender(update)
    if sender is None or _chat_type(update) != "private":
        log.warning(
            "event=chat_forbidden update_id=%s user_id=%s chat_type=%s",
            update.update_id,
            sender,
            _chat_type(update),
        )
        return
    log.info("event=user_unreachable update_id=%s user_id=%s", update.update_id, sender)
    await services.users.mark_unreachable(sender)


def _chat_type(update: Update) -> str | None:
    if update.message is not None:
        return update.message.chat.type
    query = update.callback_query
    if query is not None:
        # A button on an inline message has no chat: it was pressed in the sender's own client.
        return query.message.chat.type if query.message is not None else "private"
    return "private" if update.pre_checkout_query is not None else None


def _sender(update: Update) -> int | None:
    user = getattr(update.event, "from_user", None) if update.event is not None else None
    return int(user.id) if user is not None else None


async def unexpected_error(
    event: ErrorEvent, bot: Bot, i18n: I18n, services: Services, t: Translator | None = None
) -> None:
    update = event.update
    sender = _sender(update)
    log.error(
        "event=handler_failed update_id=%s update_type=%s user_id=%s error=%s",
        update.update_id,
        update.event_type,
        sender,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    if await _money_moved(event, bot, services):
        return
    t = t or i18n(i18n.default)
    await _tell(bot, update, t("error-internal"))


class Retryable(Filter):
    """Faults the inbox retries instead of answering: storage and network trouble, a long
    flood wait, and anything at all while money is being recorded (a payment is never answered
    "nothing was charged" and never dropped)."""

    async def __call__(self, event: ErrorEvent) -> bool:
        message = event.update.message
        if message is not None and (message.successful_payment or message.refunded_payment):
            return True
        return isinstance(
            event.exception,
            TransientFault | TelegramNetworkError | TelegramServerError | TelegramRetryAfter,
        )


def create_router() -> Router:
    """Errors no handler here takes (the retryable ones) leave feed_update for the inbox."""
    router = Router(name="errors")
    router.errors.register(benign_replay, BenignReplay())
    router.errors.register(domain_error, ExceptionTypeFilter(DomainError))
    router.errors.register(user_blocked_bot, ExceptionTypeFilter(TelegramForbiddenError))
    router.errors.register(unexpected_error, ~Retryable())
    return router
