"""The Mini App in the playground: reached through the page's own origin, opened with initData
signed for the person in use, and the messages the bot prepared for it to share."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import ClientSession, web

from bot.app import Application
from bot.domain.clock import Clock
from bot.emulator import BotAPIEmulator
from bot.emulator.webapp import init_data_for
from bot.playground.http import error_response, telegram_id
from bot.playground.settings import PLAYGROUND_TOKEN
from bot.webapp.api import SESSION_HEADER

# What the Mini App's answers carry back through the playground's proxy.
PASSED_BACK = (
    "Content-Type",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cache-Control",
    "Location",
)


class MiniAppRoutes:
    def __init__(
        self,
        emulator: BotAPIEmulator,
        clock: Clock,
        apps: Callable[[], Sequence[Application]],
    ) -> None:
        self.emulator = emulator
        self.clock = clock
        self.apps = apps  # the bot processes running now (they change on a restart)
        self._turn = 0
        self._http: ClientSession | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/app", self.proxy)
        app.router.add_route("*", "/app/{tail:.*}", self.proxy)
        app.router.add_get("/api/webapp/{user_id}", self.init_data)
        app.router.add_get("/api/prepared/{prepared_id}", self.prepared_message)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def proxy(self, request: web.Request) -> web.StreamResponse:
        """/app/ of a bot process, in turn (as a proxy before replicas does): the page in the
        frame stays on this origin, and a session opened on one replica works on another."""
        apps = self.apps()
        if not apps:
            return error_response("the bot is restarting", status=503)
        self._turn += 1
        app = apps[self._turn % len(apps)]
        if self._http is None:
            self._http = ClientSession()
        headers = {
            name: request.headers[name]
            for name in ("Content-Type", SESSION_HEADER)
            if name in request.headers
        }
        url = f"http://127.0.0.1:{app.settings.webhook_port}{request.rel_url}"
        async with self._http.request(
            request.method,
            url,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as upstream:
            response = web.Response(status=upstream.status, body=await upstream.read())
            for name in PASSED_BACK:
                if name in upstream.headers:
                    response.headers[name] = upstream.headers[name]
            return response

    async def init_data(self, request: web.Request) -> web.Response:
        """What Telegram's client would hand the Mini App for this person, signed as Telegram
        signs it (the playground's own bot token)."""
        user_id = telegram_id(request.match_info["user_id"])
        person = next((u for u in self.emulator.users() if u["id"] == user_id), None)
        if person is None:
            return error_response("no such person", status=404)
        auth_date = int(self.clock.now().timestamp())
        return web.json_response(
            {"init_data": init_data_for(PLAYGROUND_TOKEN, person, auth_date), "url": "/app/"}
        )

    async def prepared_message(self, request: web.Request) -> web.Response:
        """A message the bot prepared for a Mini App to share (savePreparedInlineMessage)."""
        prepared = self.emulator.prepared_message(request.match_info["prepared_id"])
        if prepared is None:
            return error_response("no such prepared message", status=404)
        result = prepared["result"]
        return web.json_response({"title": result.get("title", ""), "result": result})
