"""The local playground: the Bot API emulator, the real bot and a chat page, in one process.

Nothing here talks to Telegram. The bot is built by the production factory and polls the
emulator, which is mounted in the same aiohttp app as the page. The page reads chats and
sends what a user would through ``/api/...``, and follows changes over server-sent events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import Application
from bot.config import SUPPORTED_LOCALES, Settings
from bot.domain.clock import ShiftedClock
from bot.emulator import BotAPIEmulator
from bot.playground import inspector
from bot.playground.controls import arm_fault, travel
from bot.playground.delivery import (
    Delivery,
    ModeRefused,
    free_port,
    replica_settings,
    report,
    target,
)
from bot.playground.http import (
    MAX_BODY,
    api_errors,
    error_response,
    event_summary,
    header_safe,
    optional_id,
    read_body,
    telegram_id,
)
from bot.playground.miniapp import MiniAppRoutes
from bot.playground.settings import (
    DEMO_USERS,
    OPERATORS_CHAT_ID,
    OPERATORS_CHAT_TITLE,
    PLAYGROUND_TOKEN,
    playground_settings,
)

log = logging.getLogger(__name__)


MAX_TEXT = 8192  # more than Telegram allows, so the bot's own limit can be tried out
SAVE_DELAY = 0.25  # seconds: a burst of changes is written once
# What a fresh start erases in the data dir: only the playground's own files (the pepper stays).
FRESH_START_ERASES = (
    "giftwallet.sqlite3",
    "giftwallet.sqlite3-wal",
    "giftwallet.sqlite3-shm",
    "giftwallet.sqlite3-journal",
    "emulator.json",
    "emulator.tmp",
    "people.json",
    "people.tmp",
)
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class Playground:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        data_dir: Path = Path("./data/playground"),
        base_settings: Settings | None = None,
        replicas: int = 0,
        database_url: str | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = data_dir
        self.base_settings = base_settings
        self.clock = ShiftedClock()
        self.emulator = BotAPIEmulator(
            token=PLAYGROUND_TOKEN, clock=lambda: self.clock.now().timestamp()
        )
        # Replicas share one database and one Redis; on its own SQLite the playground runs one.
        self.database_url = database_url
        self.redis_url = redis_url
        self.delivery = Delivery(replicas)
        self.delivery.check(shared=self.shared)
        self.apps: list[Application] = []
        self._runner: web.AppRunner | None = None
        self._running: list[asyncio.Task[None]] = []
        self._next_user_id = 2001
        self._saving: asyncio.Task[None] | None = None
        self.miniapp = MiniAppRoutes(self.emulator, self.clock, lambda: self.apps)
        self.url = ""

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        web_app = web.Application(
            client_max_size=MAX_BODY, middlewares=[self._same_origin_only, api_errors]
        )
        self.emulator.add_routes(web_app)
        self._add_routes(web_app)
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{port}"
        self.emulator.base_url = self.url

        self._load_state()
        self.emulator.on_change(self._save_soon)
        await self._start_bot()

    async def _start_bot(self) -> None:
        for user in DEMO_USERS:
            self.emulator.add_user(user.id, user.name, language_code=user.language)
        for person in self._saved_people():
            self.emulator.add_user(person["id"], person["name"], language_code=person["language"])
            self._next_user_id = max(self._next_user_id, person["id"] + 1)
        settings = playground_settings(self.base_settings, self.url, self.data_dir)
        operators = [user.id for user in DEMO_USERS if user.operator]
        self.emulator.add_group_chat(
            settings.support_chat_id or OPERATORS_CHAT_ID, OPERATORS_CHAT_TITLE, members=operators
        )
        if self.database_url is not None:
            settings = settings.model_copy(update={"database_url": self.database_url})
        # The Mini App, reached through this page's origin (/app/ is passed to a bot process).
        settings = settings.model_copy(update={"webapp_url": f"{self.url}/app/"})
        if not self.delivery.replicas:
            app = Application(
                settings.model_copy(update={"webhook_port": free_port()}), clock=self.clock
            )
            mark = self.emulator.call_count()  # after a fresh start, old polls are history
            task = asyncio.create_task(app.run_polling())
            self.apps, self._running = [app], [task]
            await self.emulator.wait_until_polling(task, after=mark)
            return
        targets = []
        for _ in range(self.delivery.replicas):
            port = free_port()
            app = Application(replica_settings(settings, port, self.redis_url), clock=self.clock)
            mark = self.emulator.call_count()
            task = asyncio.create_task(app.run_webhook())
            self.apps.append(app)
            self._running.append(task)
            targets.append(target(port))
            self.emulator.balance_webhook(targets)
            await self.emulator.wait_until_serving(task, after=mark)

    @property
    def app(self) -> Application | None:
        """The first replica (or the one process): what the page's tools read through."""
        return self.apps[0] if self.apps else None

    @property
    def shared(self) -> bool:
        """PostgreSQL and Redis were given: several replicas can share them."""
        return self.database_url is not None and self.redis_url is not None

    async def switch(self, delivery: Delivery) -> None:
        """Start the bot again with another delivery; chats and the database stay."""
        delivery.check(shared=self.shared)
        await self._stop_bot()
        self.delivery = delivery
        await self._start_bot()
        log.info("event=playground_delivery mode=%s", delivery.label)

    @property
    def _people_file(self) -> Path:
        return self.data_dir / "people.json"

    # --- what survives a restart --------------------------------------------------------------

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "emulator.json"

    def _load_state(self) -> None:
        """The chats, update ids, payments and clock of the last run: without them the bot's
        inbox would take the first new updates for ones it has handled already."""
        try:
            saved = json.loads(self._state_file.read_text("utf-8"))
            self.emulator.import_state(saved["emulator"])
            offset = timedelta(seconds=float(saved["clock_offset_seconds"]))
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            damaged = self._state_file.with_suffix(".damaged")
            self._state_file.replace(damaged)
            log.warning("event=playground_state_unreadable kept=%s error=%r", damaged, exc)
            return
        self.clock.advance(max(offset - self.clock.offset, timedelta(0)))

    def _save_soon(self) -> None:
        if self._saving is None or self._saving.done():
            self._saving = asyncio.get_running_loop().create_task(self._save_later())

    async def _save_later(self) -> None:
        await asyncio.sleep(SAVE_DELAY)
        try:
            self._save_state()
        except OSError as exc:  # a full disk: the page goes on, the next change tries again
            log.warning("event=playground_state_not_saved error=%r", exc)

    def _save_state(self) -> None:
        state = {
            "emulator": self.emulator.export_state(),
            "clock_offset_seconds": self.clock.offset.total_seconds(),
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        temporary = self._state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        temporary.replace(self._state_file)

    def _saved_people(self) -> list[dict[str, Any]]:
        """People added on the page earlier: their ids stay theirs, as the database remembers
        them (a new person never inherits an old one's language or balance)."""
        try:
            people = json.loads(self._people_file.read_text("utf-8"))
        except (OSError, ValueError):
            return []
        return [
            p
            for p in people
            if isinstance(p, dict)
            and isinstance(p.get("id"), int)
            and isinstance(p.get("name"), str)
            and p.get("language") in SUPPORTED_LOCALES
        ]

    def _save_person(self, user_id: int, name: str, language: str) -> None:
        people = [*self._saved_people(), {"id": user_id, "name": name, "language": language}]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        temporary = self._people_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(people, ensure_ascii=False), encoding="utf-8")
        temporary.replace(self._people_file)

    async def _stop_bot(self) -> None:
        for app in self.apps:
            app.request_stop()
        for task in self._running:
            if not task.done():
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(task, timeout=5)
        self.apps, self._running = [], []
        self.emulator.balance_webhook([])

    async def fresh_start(self) -> None:
        """Erase the playground's data (its database, chats, people and clock) and start the
        bot again on an empty one; the page hears a "reset" event and reads everything anew."""
        if self.database_url is not None:
            raise ModeRefused(
                "a fresh start erases the playground's own SQLite; on --database-url use a"
                " fresh database instead"
            )
        await self._stop_bot()
        if self._saving is not None:
            self._saving.cancel()
        for name in FRESH_START_ERASES:
            (self.data_dir / name).unlink(missing_ok=True)
        self.emulator.clear()
        self.clock.offset = timedelta(0)
        self._next_user_id = 2001
        log.info("event=playground_fresh_start data_dir=%s", self.data_dir)
        await self._start_bot()
        self.emulator.announce_reset()

    async def stop(self) -> None:
        await self._stop_bot()
        if self._saving is not None:
            self._saving.cancel()
        if self.url:  # it started: what it did is kept for the next run
            self._save_state()
        await self.emulator.stop()
        await self.miniapp.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def allowed_hosts(self) -> set[str]:
        """Host headers this server answers: its own name, never another site's (that is how
        DNS rebinding would reach it)."""
        port = self.url.rsplit(":", 1)[-1] if self.url else str(self.port)
        names = {*LOOPBACK, self.host}
        return {f"{name}:{port}" for name in names} | {
            f"[{name}]:{port}" for name in names if ":" in name and not name.startswith("[")
        }

    @web.middleware
    async def _same_origin_only(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Only this page may drive the page's API: the right Host, no foreign Origin, and
        JSON bodies (a form or text/plain POST from another site is refused)."""
        if request.host not in self.allowed_hosts():
            return error_response("unknown Host", status=421)
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"http://{request.host}":
            return error_response("cross-origin requests are refused", status=403)
        if (
            request.path.startswith("/api/")
            and request.method == "POST"
            and request.content_type != "application/json"
        ):
            return error_response("send JSON (Content-Type: application/json)", status=415)
        response: web.StreamResponse = await handler(request)
        return response

    # --- routes -------------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        self.miniapp.add_routes(app)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/chat/{chat_id}", self._chat)
        app.router.add_get("/api/file/{file_id}", self._file)
        app.router.add_get("/api/inspector", self._inspector)
        app.router.add_get("/api/events", self._events)
        app.router.add_post("/api/send", self._send)
        app.router.add_post("/api/press", self._press)
        app.router.add_post("/api/pay", self._pay)
        app.router.add_post("/api/refund", self._refund)
        app.router.add_post("/api/inline", self._inline)
        app.router.add_post("/api/inline/send", self._inline_send)
        app.router.add_post("/api/users", self._add_user)
        app.router.add_post("/api/faults", self._fault)
        app.router.add_post("/api/time", self._time_travel)
        app.router.add_post("/api/reset", self._fresh_start)
        app.router.add_post("/api/delivery", self._delivery)

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return self._static_file("index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        return self._static_file(request.match_info["name"])

    @staticmethod
    def _static_file(name: str) -> web.Response:
        types = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}
        suffix = name[name.rfind(".") :] if "." in name else ""
        folder = resources.files("bot.playground").joinpath("static")
        item = folder.joinpath(name)
        if suffix not in types or "/" in name or not item.is_file():
            raise web.HTTPNotFound()
        return web.Response(
            body=item.read_bytes(),
            content_type=types[suffix],
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def _state(self, request: web.Request) -> web.Response:
        assert self.app is not None
        settings = self.app.settings
        users = []
        for user in self.emulator.users():
            users.append(
                {
                    "id": user["id"],
                    "name": user["first_name"],
                    "language": user.get("language_code"),
                    "operator": user["id"] in settings.admin_ids,
                    "blocked": self.emulator.is_blocked(user["id"]),
                }
            )
        return web.json_response(
            {
                "bot": {
                    "username": self.emulator.bot_username,
                    "name": self.emulator.bot_first_name,
                },
                "users": users,
                "operators_chat": {"id": settings.support_chat_id, "title": OPERATORS_CHAT_TITLE},
                "now": self.clock.now().isoformat(),
                "offset_seconds": int(self.clock.offset.total_seconds()),
                "delivery": self._delivery_state(),
                "menu_button": self.emulator.menu_button(),
            }
        )

    def _delivery_state(self) -> dict[str, Any]:
        return report(self.delivery, self.apps, self.emulator.posts(), shared=self.shared)

    async def _chat(self, request: web.Request) -> web.Response:
        chat_id = telegram_id(request.match_info["chat_id"])
        language = request.query.get("language")
        # An invoice card shows how its latest payment went.
        payments = {
            payment["invoice_message_id"]: payment
            for payment in self.emulator.payments()
            if payment["chat_id"] == chat_id and payment["invoice_message_id"] is not None
        }
        messages = self.emulator.messages(chat_id)
        for message in messages:
            payment = payments.get(message["message_id"]) if message["invoice"] else None
            if payment is not None:
                message["payment"] = {
                    "status": payment["status"],
                    "error_message": payment["error_message"],
                    "charge_id": payment["telegram_payment_charge_id"],
                    "user_id": payment["user_id"],
                }
        return web.json_response(
            {
                "messages": messages,
                "reply_keyboard": self.emulator.reply_keyboard(chat_id),
                "commands": self.emulator.effective_commands(chat_id, language),
            }
        )

    async def _file(self, request: web.Request) -> web.Response:
        found = self.emulator.download(request.match_info["file_id"])
        if found is None:
            raise web.HTTPNotFound()
        data, mime, name = found
        return web.Response(
            body=data,
            content_type=mime,
            headers={"Content-Disposition": f'attachment; filename="{header_safe(name)}"'},
        )

    async def _inspector(self, request: web.Request) -> web.Response:
        assert self.app is not None
        return web.json_response(await inspector.snapshot(self.app, self.emulator))

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: every change in any chat, as the emulator reports it."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        queue = self.emulator.subscribe()
        try:
            await response.write(b": connected\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                payload = json.dumps(event_summary(event), ensure_ascii=False)
                await response.write(f"data: {payload}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self.emulator.unsubscribe(queue)
        return response

    async def _send(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        text = str(body.get("text", ""))
        if not text.strip() or len(text) > MAX_TEXT:
            return error_response("text must be 1 to 8192 characters")
        user_id = telegram_id(body.get("user_id"))
        chat_id = optional_id(body.get("chat_id"))
        reply_to = optional_id(body.get("reply_to_message_id"))
        try:
            record = await self.emulator.send_text(
                user_id, text, chat_id=chat_id, reply_to_message_id=reply_to
            )
        except ValueError as exc:
            return error_response(str(exc))
        return web.json_response({"message": record})

    async def _press(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        query_id = await self.emulator.press_button(
            telegram_id(body.get("user_id")),
            telegram_id(body.get("message_id")),
            str(body.get("data", "")),
            chat_id=optional_id(body.get("chat_id")),
        )
        return web.json_response({"callback_query_id": query_id})

    async def _pay(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        outcome = await self.emulator.pay_invoice(
            telegram_id(body.get("user_id")),
            telegram_id(body.get("message_id")),
            chat_id=optional_id(body.get("chat_id")),
        )
        return web.json_response(
            {
                "ok": outcome.ok,
                "status": outcome.status,
                "error_message": outcome.error_message,
                "charge_id": outcome.telegram_payment_charge_id,
            }
        )

    async def _refund(self, request: web.Request) -> web.Response:
        """Telegram refunds a charge on its own (a dispute): the bot gets refunded_payment."""
        body = await read_body(request)
        record = await self.emulator.refund_payment_update(
            telegram_id(body.get("user_id")), str(body.get("charge_id", ""))
        )
        return web.json_response({"message": record})

    async def _inline(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        user_id = telegram_id(body.get("user_id"))
        mark = self.emulator.call_count()
        query_id = await self.emulator.send_inline_query(user_id, str(body.get("query", ""))[:256])
        try:
            await self.emulator.wait_for_call(
                "answerInlineQuery",
                lambda call: call.params.get("inline_query_id") == query_id,
                after=mark,
                timeout=10,
            )
        except TimeoutError:
            return error_response("the bot did not answer the inline query", status=504)
        answered = self.emulator.inline_query(query_id) or {}
        return web.json_response({"query_id": query_id, "results": answered.get("results") or []})

    async def _inline_send(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        record = await self.emulator.send_inline_result(
            telegram_id(body.get("user_id")),
            telegram_id(body.get("chat_id")),
            str(body.get("query_id", "")),
            str(body.get("result_id", "")),
        )
        return web.json_response({"message": record})

    async def _add_user(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        name = str(body.get("name", "")).strip()[:64]
        language = str(body.get("language", "en"))
        if not name or language not in SUPPORTED_LOCALES:
            return error_response("a name and a language (ru or en) are needed")
        user_id = self._next_user_id
        self._next_user_id += 1
        self._save_person(user_id, name, language)
        self.emulator.add_user(user_id, name, language_code=language)
        return web.json_response({"id": user_id})

    async def _fault(self, request: web.Request) -> web.Response:
        return web.json_response(arm_fault(self.emulator, await read_body(request)))

    async def _fresh_start(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        if body.get("confirm") is not True:
            return error_response('a fresh start erases everything: send {"confirm": true}')
        try:
            await self.fresh_start()
        except ModeRefused as exc:
            return error_response(str(exc))
        return web.json_response({"reset": True, "now": self.clock.now().isoformat()})

    async def _delivery(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        replicas = body.get("replicas")
        if type(replicas) is not int:
            return error_response("replicas must be a whole number: 0 for polling")
        try:
            await self.switch(Delivery(replicas))
        except ModeRefused as exc:
            return error_response(str(exc))
        return web.json_response(self._delivery_state())

    async def _time_travel(self, request: web.Request) -> web.Response:
        assert self.app is not None
        body = await read_body(request)
        moved = await travel(self.app, self.clock, body.get("step"))
        self._save_soon()
        return web.json_response(moved)
