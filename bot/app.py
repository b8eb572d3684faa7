"""The one factory that builds the bot for production, the playground and the tests."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import socket
from contextlib import suppress
from datetime import UTC
from decimal import Decimal

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommandScopeDefault, MenuButtonWebApp, WebAppInfo
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import SUPPORTED_LOCALES, Settings
from bot.domain.clock import Clock, SystemClock
from bot.domain.errors import TransientFault
from bot.domain.money import Money
from bot.handlers import create_root_router
from bot.handlers.index import IndexedDispatcher
from bot.i18n import I18n
from bot.keyboards.commands import bot_commands
from bot.middlewares.callbacks import AnswerCallbackMiddleware
from bot.middlewares.context import UserContextMiddleware
from bot.middlewares.input_limits import CommandLeavesStep, TextLengthMiddleware
from bot.middlewares.prompts import PromptRecorder, StalePrompts
from bot.middlewares.retry import RetryAfterMiddleware
from bot.middlewares.throttling import (
    FloodGate,
    SharedBuckets,
    ThrottlingMiddleware,
    TokenBuckets,
)
from bot.runtime.inbox import Inbox
from bot.runtime.leader import Leadership
from bot.runtime.metrics import REPLIES, Metrics
from bot.runtime.notices import LiveCards, NoticeSender
from bot.runtime.parked import ParkedNotifier
from bot.runtime.polling import InboxPoller
from bot.runtime.reconcile import StarsReconciler
from bot.runtime.refunds import StarsRefunds
from bot.runtime.scheduler import register_jobs
from bot.runtime.telegram_session import telegram_session
from bot.runtime.webhook import ReadyCheck, WebhookServer, webhook_path
from bot.services import Services
from bot.services.cards import CardService
from bot.services.cashback import CashbackPolicy, CashbackService
from bot.services.catalog import CatalogService, catalog_from_settings
from bot.services.certificates import CertificatePolicy, CertificateService
from bot.services.gifts import GiftService
from bot.services.hashing import SecretHasher
from bot.services.ledger import LedgerService
from bot.services.notices import NoticeService
from bot.services.orders import OrderService
from bot.services.reconciliation import Reconciliation
from bot.services.security import Lockout, SecurityService
from bot.services.support import SupportService
from bot.services.users import UserService
from bot.storage.database import open_database
from bot.storage.errors import StorageUnavailable
from bot.storage.fsm import DatabaseStorage
from bot.storage.shared_limits import SharedLimits
from bot.webapp.api import WebApp

log = logging.getLogger(__name__)

# A stop request waits this long for the updates in hand, so shutdown stays within 5 s.
STOP_GRACE_SECONDS = 3.5
# Per user: a burst of 30 updates, then 3 a second. Far above what a person can tap or type.
FLOOD_BURST = 30
FLOOD_RATE = 3.0
CONFIRM_BURST = 10  # the Mini App's confirmations a user may send at once
CONFIRM_RATE = 0.2


def load_pepper(settings: Settings) -> bytes:
    """SECRET_PEPPER, or one generated into DATA_DIR on the first start and kept there.

    Several processes on several machines (PostgreSQL) must share one: set SECRET_PEPPER.
    Losing it makes every stored password and answer unverifiable.
    """
    if settings.secret_pepper is not None:
        return settings.secret_pepper.get_secret_value().encode()
    path = settings.data_dir / "secret_pepper"
    if settings.database.startswith("postgres"):
        log.warning(
            "event=pepper_not_shared path=%s hint=set SECRET_PEPPER: on PostgreSQL every process"
            " that shares the database needs the same pepper, or passwords set through one stop"
            " verifying in another; copy the value from this file",
            path,
        )
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
            log.info("event=pepper_generated path=%s", path)
        return path.read_bytes().strip()
    except OSError as exc:
        reason = f"cannot keep the generated pepper in {path}: {exc.strerror}"
        raise StorageUnavailable(reason) from None


def certificate_policy(settings: Settings) -> CertificatePolicy:
    def money(units: Decimal) -> Money:
        return Money.from_units(units, settings.currency)

    return CertificatePolicy(
        nominals=tuple(money(n) for n in settings.certificate_nominals),
        minimum=money(settings.certificate_min),
        maximum=money(settings.certificate_max),
        balance_max=money(settings.balance_max),
        stars_per_unit=settings.stars_per_unit,
        cashback_percent=settings.certificate_cashback_percent,
        fiat=settings.payment_provider_token is not None,
        gift_ttl=settings.gift_ttl,
        operators_chat=settings.support_chat_id,
    )


def cashback_policy(settings: Settings) -> CashbackPolicy:
    return CashbackPolicy(
        hold=settings.cashback_hold,
        withdraw_min=Money.from_units(settings.withdraw_min, settings.currency),
        support_chat_id=settings.support_chat_id,
    )


class Application:
    """Bot, dispatcher, services and scheduler, wired from Settings. No global state."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, polling_timeout: int = 25
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.polling_timeout = polling_timeout
        self.db = open_database(
            settings.database, currency=settings.currency, pool_size=settings.database_pool_size
        )
        self.i18n = I18n(SUPPORTED_LOCALES, settings.default_locale, settings.currency)
        self.metrics = Metrics(self.db, self.clock)
        # This process among the replicas, as leases name it: where it runs, and which run.
        self.replica = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

        ledger = LedgerService(self.db, settings.currency, self.clock)
        hasher = SecretHasher(load_pepper(settings))
        lockout = Lockout(
            settings.lockout_max_failures, settings.lockout_window, settings.lockout_period
        )
        security = SecurityService(self.db, hasher, self.clock, lockout)
        certificates = CertificateService(self.db, ledger, self.clock, certificate_policy(settings))
        cashback = CashbackService(
            self.db, certificates, security, self.clock, cashback_policy(settings)
        )
        orders = OrderService(
            self.db,
            certificates,
            cashback,
            security,
            self.clock,
            settings.order_protection,
            settings.order_confirm_reminder,
            settings.support_chat_id,
        )
        self.services = Services(
            users=UserService(self.db, ledger, self.clock),
            ledger=ledger,
            security=security,
            cards=CardService(self.db, self.clock),
            support=SupportService(self.db, self.clock, settings.support_chat_id),
            certificates=certificates,
            gifts=GiftService(self.db, certificates, security, self.clock),
            orders=orders,
            catalog=CatalogService(self.db, orders, catalog_from_settings(settings.catalog_path)),
            cashback=cashback,
            notices=NoticeService(self.db, self.clock),
        )
        # Replicas count Telegram's limits together in Redis; one process counts them itself.
        self.shared_limits = (
            SharedLimits(settings.redis_url.get_secret_value(), self._limits_namespace())
            if settings.redis_url is not None
            else None
        )
        self.flood_control: FloodGate = (
            SharedBuckets(self.shared_limits, FLOOD_BURST, FLOOD_RATE)
            if self.shared_limits is not None
            else TokenBuckets(FLOOD_BURST, FLOOD_RATE)
        )

        self.bot = Bot(
            settings.bot_token.get_secret_value(),
            session=self._session(),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        self.bot.session.middleware(
            RetryAfterMiddleware(on_flood_wait=lambda: self.metrics.flood_wait(REPLIES))
        )
        self.bot.session.middleware(PromptRecorder())
        self.reconciler = StarsReconciler(
            self.bot, Reconciliation(self.db), self.services.notices, settings.support_chat_id
        )
        self.dispatcher = self._dispatcher()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.leadership = Leadership(
            self.db, self.clock, owner=self.replica, lease=settings.lane_lease
        )
        register_jobs(self.scheduler, self.services, settings.scheduler_interval, self.leadership)
        if settings.payment_provider_token is None:
            self.scheduler.add_job(
                self._reconcile_stars,
                "interval",
                seconds=settings.reconcile_interval.total_seconds(),
                id="reconcile_stars",
                coalesce=True,
                max_instances=1,
                replace_existing=True,
            )
        parked = ParkedNotifier(
            self.services.notices, self.services.ledger, settings.support_chat_id
        )
        self.inbox = Inbox(
            self.db,
            self.dispatcher,
            self.bot,
            self.clock,
            max_lanes=settings.inbox_max_lanes,
            max_attempts=settings.inbox_max_attempts,
            retention=settings.inbox_retention,
            on_parked=parked,
            on_retry=parked.answered_by_steps,
            users=self.services.users,
            owner=self.replica,
            lease=settings.lane_lease,
            exclusive=self.db.dialect == "sqlite",
            metrics=self.metrics,
        )
        # Notices go out through a session of their own: no retry-after waits inside a send
        # (the sender reschedules instead), and handlers' replies never queue behind notices.
        self.notices_bot = Bot(
            settings.bot_token.get_secret_value(),
            session=self._session(),
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        self.notice_sender = NoticeSender(
            self.notices_bot,
            self.services.notices,
            self.services.users,
            self.i18n,
            live=LiveCards(self.services),
            operators_chat=settings.support_chat_id,
            rate=settings.notice_rate,
            poll=settings.notice_poll,
            lease=settings.notice_lease,
            max_attempts=settings.notice_max_attempts,
            shared=self.shared_limits,
            metrics=self.metrics,
        )
        self.db.on_notices = self.notice_sender.wake
        self.webapp = WebApp(
            self.services,
            self.i18n,
            self.clock,
            token=settings.bot_token.get_secret_value(),
            max_age=settings.webapp_initdata_max_age,
            bot=self.bot,
            # Confirmations per user: a burst of 10, then one every 5 s, across replicas.
            confirm_gate=(
                SharedBuckets(self.shared_limits, CONFIRM_BURST, CONFIRM_RATE, prefix="confirm:")
                if self.shared_limits is not None
                else TokenBuckets(CONFIRM_BURST, CONFIRM_RATE)
            ),
        )
        self._sender_task: asyncio.Task[None] | None = None
        self._poller: InboxPoller | None = None
        self.webhook: WebhookServer | None = None
        self._stop_requested = asyncio.Event()

    def _limits_namespace(self) -> str:
        """Redis keys of this deployment: its bot, and its database (replicas share both)."""
        bot_id = self.settings.bot_token.get_secret_value().split(":", 1)[0]
        database = hashlib.sha256(self.settings.database.encode()).hexdigest()[:12]
        return f"giftwallet:{bot_id}:{database}"

    async def _reconcile_stars(self) -> None:
        if not self.leadership.holds():
            return  # the leader reconciles, once for every replica
        try:
            await self.reconciler.run()
        except (TelegramAPIError, TransientFault) as exc:
            log.warning("event=reconcile_failed error=%s", exc)

    def _session(self) -> AiohttpSession:
        return telegram_session(self.settings.telegram_api_url)

    def _dispatcher(self) -> Dispatcher:
        dispatcher = IndexedDispatcher(
            storage=DatabaseStorage(self.db, now=self.clock.now),
            settings=self.settings,
            i18n=self.i18n,
            clock=self.clock,
            services=self.services,
            reconciler=self.reconciler,
            refunds=StarsRefunds(self.bot, self.services.certificates),
        )
        dispatcher.update.outer_middleware(UserContextMiddleware(self.services.users, self.i18n))
        throttling = ThrottlingMiddleware(self.flood_control)
        dispatcher.message.outer_middleware(throttling)
        dispatcher.callback_query.outer_middleware(throttling)
        dispatcher.inline_query.outer_middleware(throttling)
        dispatcher.message.outer_middleware(TextLengthMiddleware())
        stale_prompts = StalePrompts()
        dispatcher.message.outer_middleware(stale_prompts)
        dispatcher.callback_query.outer_middleware(stale_prompts)
        dispatcher.message.outer_middleware(CommandLeavesStep())
        dispatcher.callback_query.middleware(AnswerCallbackMiddleware())
        dispatcher.include_router(create_root_router())
        return dispatcher

    # --- lifecycle ------------------------------------------------------------------------

    async def open_storage(self) -> None:
        await self.db.connect()
        try:
            self.db.hold_sole_use()
            if self.shared_limits is not None:
                await self.shared_limits.connect()
            await self.db.migrate()
            await self.services.ledger.ensure_system_accounts()
        except BaseException:
            # Closed, or its connection threads would keep a failed start from exiting.
            await self.db.close()
            raise

    async def publish_commands(self) -> None:
        """The command menu, in the default language and in each supported one."""
        default = self.i18n(self.i18n.default)
        await self.bot.set_my_commands(bot_commands(default), scope=BotCommandScopeDefault())
        for locale in self.i18n.locales:
            await self.bot.set_my_commands(
                bot_commands(self.i18n(locale)),
                scope=BotCommandScopeDefault(),
                language_code=locale,
            )
        if self.settings.webapp_url is not None:
            # The button beside the message field opens the Mini App in every private chat.
            await self.bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp(
                    text=self.i18n(self.i18n.default)("app-menu-button"),
                    web_app=WebAppInfo(url=self.settings.webapp_url),
                )
            )

    async def run_polling(self) -> None:
        """Start everything, poll until :meth:`request_stop`, then shut down cleanly."""
        await self.open_storage()
        try:
            # Pending updates are kept: nothing is dropped on the way from webhook to polling.
            await self.bot.delete_webhook(drop_pending_updates=False)
            await self.publish_commands()
            me = await self.bot.me()
            log.info("event=polling_started bot_id=%s username=%s", me.id, me.username)
            await self._start_handling()
            # The probes and /metrics on METRICS_PORT; the Mini App, if set, beside them.
            port = self.settings.metrics_port
            if port is None and self.settings.webapp_url is not None:
                port = self.settings.webhook_port
            if port is not None:
                self.webhook = WebhookServer(
                    self.inbox,
                    self.db,
                    path=None,
                    checks=self._ready_checks(),
                    metrics=self.metrics,
                    webapp=self._webapp_app(),
                )
                await self.webhook.start(self.settings.webhook_host, port)
            self._poller = InboxPoller(
                self.bot,
                self.inbox,
                polling_timeout=self.polling_timeout,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
            )
            await self._poller.run()
            await self._stop_handling()
        finally:
            if self.webhook is not None:
                await self.webhook.close()
            await self.shutdown()

    async def run_webhook(self) -> None:
        """Serve Telegram's POSTs until :meth:`request_stop`, then shut down cleanly."""
        url, secret = self.settings.webhook_url, self.settings.webhook_secret
        if url is None or secret is None:
            raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
        await self.open_storage()
        try:
            await self.publish_commands()
            me = await self.bot.me()
            await self._start_handling()
            self.webhook = WebhookServer(
                self.inbox,
                self.db,
                path=webhook_path(url),
                secret=secret.get_secret_value(),
                checks=self._ready_checks(),
                metrics=self.metrics,
                webapp=self._webapp_app(),
            )
            await self.webhook.start(self.settings.webhook_host, self.settings.webhook_port)
            # The same call from every replica: Telegram keeps one webhook and what is pending.
            await self.bot.set_webhook(
                url,
                secret_token=secret.get_secret_value(),
                allowed_updates=self.dispatcher.resolve_used_update_types(),
                drop_pending_updates=False,
            )
            log.info("event=webhook_started bot_id=%s username=%s", me.id, me.username)
            await self._stop_requested.wait()
            # New POSTs get 503 (Telegram retries them elsewhere); those in hand get the grace.
            self.webhook.stop_accepting()
            await self._stop_handling()
        finally:
            if self.webhook is not None:
                await self.webhook.close()
            await self.shutdown()

    def _webapp_app(self) -> web.Application | None:
        return self.webapp.make_app() if self.settings.webapp_url is not None else None

    def _ready_checks(self) -> dict[str, ReadyCheck]:
        return {"redis": self.shared_limits.ping} if self.shared_limits is not None else {}

    async def _start_handling(self) -> None:
        await self.inbox.start()
        await self.leadership.campaign()  # before the jobs' first run at start
        self.leadership.start()
        self.scheduler.start()
        self._sender_task = asyncio.create_task(self.notice_sender.run(), name="notices")

    async def _stop_handling(self) -> None:
        """The updates and notices in hand get a moment; the rest wait in the database."""
        await asyncio.gather(
            self.inbox.stop(grace=STOP_GRACE_SECONDS),
            self.notice_sender.stop(grace=STOP_GRACE_SECONDS),
            self.leadership.stop(),
        )

    async def run_scheduled_jobs(self) -> int:
        """Run every scheduled job once, now: after the playground's time travel.

        Jobs look for work that is due by the injected clock, so an extra run is harmless.
        """
        jobs = self.scheduler.get_jobs()
        for job in jobs:
            await job.func(*job.args, **job.kwargs)
        self.notice_sender.wake()
        return len(jobs)

    def request_stop(self) -> None:
        """Signal-safe: stop fetching; updates in hand get STOP_GRACE_SECONDS to finish."""
        self._stop_requested.set()
        if self._poller is not None:
            self._poller.stop()

    async def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._sender_task is not None:
            self._sender_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._sender_task
        with suppress(TelegramAPIError, OSError):
            await self.bot.session.close()
            await self.notices_bot.session.close()
        if self.shared_limits is not None:
            with suppress(Exception):
                await self.shared_limits.close()
        await self.db.close()
        log.info("event=stopped")
