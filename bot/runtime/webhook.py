"""The webhook server: Telegram's POSTs stored in the inbox before they are answered.

Telegram sends a queue's next update only after the previous one got a 2xx, and retries on
anything else. So an update is answered 200 only once it is committed to the inbox (aiogram's
``SimpleRequestHandler`` answers first and handles in the background, which loses the update
if the process dies in between); when storage is down the answer is 503 and Telegram retries.
Handling happens afterwards, from the inbox, in the update's lane, on whichever replica
holds that lane.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web

from bot.runtime.inbox import Inbox
from bot.runtime.metrics import CONTENT_TYPE, Metrics
from bot.storage.database import Database
from bot.storage.errors import StorageError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are far below this; anything larger is not Telegram.
MAX_BODY = 1024 * 1024
# /readyz fails when the oldest update still waiting is older than this: handling has stalled.
STALE_INBOX = timedelta(minutes=5)

WEBAPP_PREFIX = "/app/"

# A named check for /readyz: raises (or returns False) when what it checks is not usable.
ReadyCheck = Callable[[], Awaitable[bool]]


async def _to_webapp(request: web.Request) -> web.Response:
    raise web.HTTPPermanentRedirect(WEBAPP_PREFIX)


def webhook_path(url: str) -> str:
    """The path of WEBHOOK_URL: where Telegram (through any proxy) posts updates."""
    return urlsplit(url).path or "/"


class WebhookServer:
    def __init__(
        self,
        inbox: Inbox,
        db: Database,
        *,
        path: str | None,
        secret: str = "",
        checks: Mapping[str, ReadyCheck] | None = None,
        metrics: Metrics | None = None,
        webapp: web.Application | None = None,
    ) -> None:
        """``path`` None: the probes and /metrics only, beside a poller (METRICS_PORT).
        ``webapp``: the Mini App (bot/webapp), served under /app/."""
        self.inbox = inbox
        self.db = db
        self.path = path
        self._secret = secret.encode()
        self.checks = checks or {}
        self.metrics = metrics
        self.webapp = webapp
        self._accepting = True
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        if self.path is not None:
            app.router.add_post(self.path, self.receive)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        if self.metrics is not None:
            app.router.add_get("/metrics", self.scrape)
        if self.webapp is not None:
            # Before the sub-app, whose prefix would take "/app" too and not find it.
            app.router.add_get(WEBAPP_PREFIX.rstrip("/"), _to_webapp)
            app.add_subapp(WEBAPP_PREFIX, self.webapp)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = self._runner.addresses[0][1]
        log.info("event=http_listening host=%s port=%s webhook=%s", host, self.port, self.path)

    def stop_accepting(self) -> None:
        """From now on answer 503: Telegram keeps the update for another replica or later."""
        self._accepting = False

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- Telegram's POST ---------------------------------------------------------------------

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("event=webhook_refused reason=secret remote=%s", request.remote)
            return web.Response(status=401)
        if not self._accepting:
            return web.Response(status=503, headers={"Retry-After": "1"})
        try:
            update = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            log.warning("event=webhook_refused reason=json")
            return web.Response(status=400)
        if not isinstance(update, dict) or type(update.get("update_id")) is not int:
            log.warning("event=webhook_refused reason=shape")
            return web.Response(status=400)
        try:
            await self.inbox.accept([update])
        except StorageError as exc:
            # Not stored, so not answered 200: Telegram sends it again.
            log.error(
                "event=webhook_store_failed update_id=%s error=%s",
                update["update_id"],
                type(exc).__name__,
            )
            return web.Response(status=503, headers={"Retry-After": "1"})
        return web.Response(status=200)

    # --- probes --------------------------------------------------------------------------------

    async def scrape(self, request: web.Request) -> web.Response:
        """Prometheus's text format (bot/runtime/metrics.py); 503 while the database is away."""
        assert self.metrics is not None
        try:
            body = await self.metrics.render()
        except StorageError as exc:
            log.warning("event=metrics_unavailable error=%s", type(exc).__name__)
            return web.Response(status=503)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def healthz(self, request: web.Request) -> web.Response:
        """The event loop runs and answers: nothing else is asked."""
        return web.json_response({"status": "ok"})

    async def readyz(self, request: web.Request) -> web.Response:
        """The database answers, every other check passes, and the inbox is moving."""
        report: dict[str, object] = {}
        ready = self._accepting
        try:
            async with asyncio.timeout(3):
                async with self.db.read() as uow:
                    oldest = await uow.inbox.oldest_pending()
            age = 0.0 if oldest is None else (self.inbox.clock.now() - oldest).total_seconds()
            report["database"] = "ok"
            report["oldest_pending_seconds"] = round(max(age, 0.0), 1)
            if age > STALE_INBOX.total_seconds():
                ready = False
        except (StorageError, TimeoutError) as exc:
            report["database"] = type(exc).__name__
            ready = False
        for name, check in self.checks.items():
            try:
                async with asyncio.timeout(3):
                    fine = await check()
            except Exception as exc:
                fine = False
                log.warning("event=readyz_check_failed check=%s error=%s", name, type(exc).__name__)
            report[name] = "ok" if fine else "failed"
            ready = ready and fine
        report["status"] = "ready" if ready else "not ready"
        return web.json_response(report, status=200 if ready else 503)
