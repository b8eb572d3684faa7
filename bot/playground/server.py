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
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import Application
from bot.clock import ShiftedClock
from bot.config import SUPPORTED_LOCALES, Settings
from bot.emulator import ApiError, BotAPIEmulator
from bot.models import Accrual

log = logging.getLogger(__name__)

# Shaped like a real token so Settings accepts it; it only ever reaches the local emulator.
PLAYGROUND_TOKEN = "700000001:playground-local-token-never-sent-anywhere"
OPERATORS_CHAT_ID = -1001000000001
OPERATORS_CHAT_TITLE = "Giftwallet operators"
TIME_STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "15days": timedelta(days=15)}
MAX_TEXT = 8192  # more than Telegram allows, so the bot's own limit can be tried out
MAX_BODY = 256 * 1024
ID_LIMIT = 2**52  # Telegram's user and chat ids fit in 52 bits
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True, slots=True)
class DemoUser:
    id: int
    name: str
    language: str
    operator: bool = False


DEMO_USERS = (
    DemoUser(1001, "Анна", "ru"),
    DemoUser(1002, "Ben", "en"),
    DemoUser(900, "Olga", "ru", operator=True),
)


def playground_settings(base: Settings | None, base_url: str, data_dir: Path) -> Settings:
    """The user's settings, with the emulator as the Bot API server and a data dir of its own."""
    admins = {user.id for user in DEMO_USERS if user.operator}
    values: dict[str, Any] = {
        "bot_token": PLAYGROUND_TOKEN,
        "telegram_api_url": base_url,
        "data_dir": data_dir,
        "database_url": None,  # its own SQLite file in data_dir, never the shop's database
        "admin_ids": frozenset(admins | set(base.admin_ids if base else ())),
        "support_chat_id": (base.support_chat_id if base else None) or OPERATORS_CHAT_ID,
        "_env_file": None,
    }
    if base is not None:
        values |= {
            "default_locale": base.default_locale,
            "currency": base.currency,
            "log_level": base.log_level,
        }
    return Settings(**values)


class Playground:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        data_dir: Path = Path("./data/playground"),
        base_settings: Settings | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = data_dir
        self.base_settings = base_settings
        self.clock = ShiftedClock()
        self.emulator = BotAPIEmulator(
            token=PLAYGROUND_TOKEN, clock=lambda: self.clock.now().timestamp()
        )
        self.app: Application | None = None
        self._runner: web.AppRunner | None = None
        self._polling: asyncio.Task[None] | None = None
        self._next_user_id = 2001
        self.url = ""

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        web_app = web.Application(
            client_max_size=MAX_BODY, middlewares=[self._same_origin_only, _api_errors]
        )
        self.emulator.add_routes(web_app)
        self._add_routes(web_app)
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self.host}:{port}"
        self.emulator.base_url = self.url

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
        self.app = Application(settings, clock=self.clock)
        self._polling = asyncio.create_task(self.app.run_polling())
        await self.emulator.wait_until_polling(self._polling)

    @property
    def _people_file(self) -> Path:
        return self.data_dir / "people.json"

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

    async def stop(self) -> None:
        if self.app is not None and self._polling is not None and not self._polling.done():
            self.app.request_stop()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._polling, timeout=5)
        await self.emulator.stop()
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
            return _error("unknown Host", status=421)
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"http://{request.host}":
            return _error("cross-origin requests are refused", status=403)
        if (
            request.path.startswith("/api/")
            and request.method == "POST"
            and request.content_type != "application/json"
        ):
            return _error("send JSON (Content-Type: application/json)", status=415)
        response: web.StreamResponse = await handler(request)
        return response

    # --- routes -------------------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
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
            }
        )

    async def _chat(self, request: web.Request) -> web.Response:
        chat_id = _int(request.match_info["chat_id"])
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
            headers={"Content-Disposition": f'attachment; filename="{_header_safe(name)}"'},
        )

    async def _inspector(self, request: web.Request) -> web.Response:
        """Read-only, through the services: what each user holds and the newest entries."""
        assert self.app is not None
        t = self.app.i18n("en")
        balances = []
        for user in self.emulator.users():
            record = await self.app.services.users.get(user["id"])
            if record is None:
                continue
            held = await self.app.services.ledger.balances(user["id"])
            balances.append(
                {
                    "id": user["id"],
                    "name": user["first_name"],
                    "reachable": record.reachable,
                    "language": record.language or record.client_language,
                    "balance": t.money(held.balance),
                    "cashback_available": t.money(held.cashback_available),
                    "cashback_pending": t.money(held.cashback_pending),
                    "certificates": await self.app.services.certificates.count(user["id"]),
                }
            )
        certificates = self.app.services.certificates
        gifts = [
            {
                "code": gift.code,
                "giver_id": gift.giver_id,
                "amount": t.money(certificates.money(gift.amount)),
                "status": gift.status,
                "claimer_id": gift.claimer_id,
                "expires": gift.expires_at.isoformat(),
            }
            for gift in await self.app.services.gifts.recent(10)
        ]
        journal = [
            {
                "id": entry.entry_id,
                "key": entry.key,
                "kind": entry.kind,
                "time": entry.created_at.isoformat(),
                "legs": [
                    {
                        "account": leg.account.kind,
                        "user_id": leg.account.user_id,
                        "amount": t.money(leg.amount),
                    }
                    for leg in entry.legs
                ],
            }
            for entry in await self.app.services.ledger.journal(limit=15)
        ]
        cashback = self.app.services.cashback
        accruals = [
            {
                "id": accrual.id,
                "user_id": accrual.user_id,
                "source": f"order #{accrual.order_id}" if accrual.order_id else accrual.source,
                "amount": t.money(cashback.money(accrual.amount or accrual.voided)),
                "status": accrual.status,
                "reason": accrual.reason,
                "date": _accrual_date(accrual).isoformat(),
            }
            for accrual in await cashback.recent(12)
        ]
        withdrawals = [
            {
                "id": request.id,
                "user_id": request.user_id,
                "amount": t.money(cashback.money(request.amount)),
                "card": request.card_last4,
                "status": request.status,
                "reason": request.reason,
            }
            for request in await cashback.withdrawals(8)
        ]
        outbox = [
            {
                "id": notice.id,
                "chat_id": notice.chat_id,
                "template": notice.template,
                "attempts": notice.attempts,
                "state": state,
                "time": notice.created_at.isoformat(),
            }
            for notice, state in await self.app.services.notices.recent(12)
        ]
        problems = await self.app.services.ledger.check_invariants()
        problems += await certificates.drift()
        problems += await cashback.drift()
        return web.json_response(
            {
                "users": balances,
                "gifts": gifts,
                "accruals": accruals,
                "withdrawals": withdrawals,
                "outbox": outbox,
                "journal": journal,
                "problems": problems,
            }
        )

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
                payload = json.dumps(_event_summary(event), ensure_ascii=False)
                await response.write(f"data: {payload}\n\n".encode())
        except ConnectionResetError:
            pass  # the page went away
        finally:
            self.emulator.unsubscribe(queue)
        return response

    async def _send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        text = str(body.get("text", ""))
        if not text.strip() or len(text) > MAX_TEXT:
            return _error("text must be 1 to 8192 characters")
        user_id = _int(body.get("user_id"))
        chat_id = _opt_int(body.get("chat_id"))
        reply_to = _opt_int(body.get("reply_to_message_id"))
        try:
            record = await self.emulator.send_text(
                user_id, text, chat_id=chat_id, reply_to_message_id=reply_to
            )
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response({"message": record})

    async def _press(self, request: web.Request) -> web.Response:
        body = await _body(request)
        query_id = await self.emulator.press_button(
            _int(body.get("user_id")),
            _int(body.get("message_id")),
            str(body.get("data", "")),
            chat_id=_opt_int(body.get("chat_id")),
        )
        return web.json_response({"callback_query_id": query_id})

    async def _pay(self, request: web.Request) -> web.Response:
        body = await _body(request)
        outcome = await self.emulator.pay_invoice(
            _int(body.get("user_id")),
            _int(body.get("message_id")),
            chat_id=_opt_int(body.get("chat_id")),
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
        body = await _body(request)
        record = await self.emulator.refund_payment_update(
            _int(body.get("user_id")), str(body.get("charge_id", ""))
        )
        return web.json_response({"message": record})

    async def _inline(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user_id = _int(body.get("user_id"))
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
            return _error("the bot did not answer the inline query", status=504)
        answered = self.emulator.inline_query(query_id) or {}
        return web.json_response({"query_id": query_id, "results": answered.get("results") or []})

    async def _inline_send(self, request: web.Request) -> web.Response:
        body = await _body(request)
        record = await self.emulator.send_inline_result(
            _int(body.get("user_id")),
            _int(body.get("chat_id")),
            str(body.get("query_id", "")),
            str(body.get("result_id", "")),
        )
        return web.json_response({"message": record})

    async def _add_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        name = str(body.get("name", "")).strip()[:64]
        language = str(body.get("language", "en"))
        if not name or language not in SUPPORTED_LOCALES:
            return _error("a name and a language (ru or en) are needed")
        user_id = self._next_user_id
        self._next_user_id += 1
        self._save_person(user_id, name, language)
        self.emulator.add_user(user_id, name, language_code=language)
        return web.json_response({"id": user_id})

    async def _fault(self, request: web.Request) -> web.Response:
        body = await _body(request)
        kind = body.get("kind")
        if kind == "flood":
            # One fault, taken by whichever comes first: it fires once.
            self.emulator.fail_next(("sendMessage", "editMessageText"), retry_after=2)
            return web.json_response(
                {"armed": "the next send or edit answers 429, retry after 2 s"}
            )
        if kind == "block":
            user_id = _int(body.get("user_id"))
            if body.get("blocked", True):
                self.emulator.block(user_id)
            else:
                self.emulator.unblock(user_id)
            return web.json_response({"blocked": bool(body.get("blocked", True))})
        if kind == "duplicate_payment":
            self.emulator.duplicate_next_payment()
            return web.json_response({"armed": "the next successful_payment arrives twice"})
        return _error("kind must be flood, block or duplicate_payment")

    async def _time_travel(self, request: web.Request) -> web.Response:
        assert self.app is not None
        body = await _body(request)
        step = TIME_STEPS.get(str(body.get("step")))
        if step is None:
            return _error(f"step must be one of {', '.join(TIME_STEPS)}")
        self.clock.advance(step)
        jobs = await self.app.run_scheduled_jobs()
        log.info("event=time_travel step=%s jobs_run=%d", body.get("step"), jobs)
        return web.json_response(
            {
                "now": self.clock.now().isoformat(),
                "offset_seconds": int(self.clock.offset.total_seconds()),
                "jobs_run": jobs,
            }
        )


def _accrual_date(accrual: Accrual) -> datetime:
    """The date that goes with the status: release for a hold, availability, else creation."""
    if accrual.status == "on_hold" and accrual.hold_until is not None:
        return accrual.hold_until
    return accrual.available_at or accrual.created_at


@web.middleware
async def _api_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """The page gets a JSON reason for a bad request instead of a traceback."""
    if not request.path.startswith("/api/"):
        return await handler(request)  # type: ignore[no-any-return]
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except (ValueError, KeyError, ApiError) as exc:
        return _error(str(exc))


def _event_summary(event: dict[str, Any]) -> dict[str, Any]:
    """What the page needs to know to refresh: which chat changed, and any toast to show."""
    keep = (
        "type",
        "chat_id",
        "seq",
        "text",
        "show_alert",
        "callback_query_id",
        "message_id",
        "method",
        "error_code",
    )
    summary = {key: event[key] for key in keep if key in event}
    if "payment" in event:
        payment = event["payment"]
        summary["payment"] = {
            key: payment.get(key)
            for key in ("status", "error_message", "user_id", "total_amount", "currency")
        }
    return summary


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except web.HTTPRequestEntityTooLarge:
        raise ValueError(f"the body is larger than {MAX_BODY} bytes") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("the body must be JSON") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _int(value: Any) -> int:
    """An id as Telegram has them: an integer within 52 bits."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"not a number: {str(value)[:40]!r}") from None
    if not -ID_LIMIT < number < ID_LIMIT:
        raise ValueError(f"not a Telegram id (more than 52 bits): {str(value)[:40]}")
    return number


def _opt_int(value: Any) -> int | None:
    return None if value in (None, "") else _int(value)


def _header_safe(name: str) -> str:
    return "".join(ch for ch in name if ch.isprintable() and ch not in '"\\') or "file"


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)
