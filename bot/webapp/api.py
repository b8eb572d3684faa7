"""The Mini App's HTTP side: its page, and a JSON API that reads through the services.

Every API call but the first carries the session in a header (``X-Session``); the user it
names is the only user whose data the call reads. No URL carries a session: the one ticket in a
URL is the CSV's, for that file only and for a minute, since Telegram's client fetches it.
Answers hold amounts both as minor units (for the chart) and as the user's own formatting.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiohttp import web

from bot.domain.clock import Clock
from bot.domain.errors import (
    AccountLocked,
    ConfirmationRefused,
    DomainError,
    InsufficientFunds,
    NoPassword,
    OperationGone,
    WrongPassword,
)
from bot.domain.models import PendingOperation
from bot.domain.money import Money
from bot.i18n import I18n, Translator
from bot.middlewares.throttling import FloodGate
from bot.screens.gifts import gift_link, shared_card
from bot.screens.history import history_csv
from bot.services import Services
from bot.services.gifts import FROM_BALANCE
from bot.services.security import NONCE_TTL
from bot.webapp import shapes
from bot.webapp.auth import Sessions, Unauthorized, check_init_data, viewer_of

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_HEADER = "X-Session"
MAX_BODY = 16 * 1024
CHART_POINTS = 400  # the newest balance changes the chart draws
# The page's own words, sent with the session in the user's language.
PAGE_TEXTS = (
    "webapp-title",
    "webapp-tab-overview",
    "webapp-tab-history",
    "webapp-tab-cashback",
    "webapp-tab-orders",
    "webapp-balance",
    "webapp-cashback",
    "webapp-available",
    "webapp-on-hold",
    "webapp-pending",
    "webapp-next-release",
    "webapp-certificates",
    "webapp-certificates-empty",
    "webapp-chart",
    "webapp-chart-empty",
    "webapp-history-empty",
    "webapp-cashback-empty",
    "webapp-orders-empty",
    "webapp-older",
    "webapp-more",
    "webapp-loading",
    "webapp-open-in-telegram",
    "webapp-session-ended",
    "webapp-failed",
    "webapp-retry",
    "webapp-pay",
    "webapp-confirm-title",
    "webapp-password-label",
    "webapp-password-hint",
    "webapp-confirm",
    "webapp-cancel",
    "webapp-confirm-biometric",
    "webapp-enroll",
    "webapp-biometric-reason",
    "webapp-biometric-denied",
    "webapp-move",
    "webapp-withdraw",
    "webapp-withdraw-card",
    "webapp-no-cards",
    "webapp-gift",
    "webapp-gift-amount",
    "webapp-gift-note",
    "webapp-gift-give",
    "webapp-share",
    "webapp-copy",
    "webapp-gift-until",
    "webapp-shared",
    "webapp-csv",
    "webapp-too-many",
)

# No inline script or style anywhere: the page is its files, and it talks only to this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
)
# Telegram's web clients host a Mini App in a frame; the apps show it in a web view.
TELEGRAM_FRAMES = ("https://web.telegram.org",)

# A refusal's HTTP status; the body carries the user's own words for it.
STATUSES: tuple[tuple[type[DomainError], int], ...] = (
    (WrongPassword, 403),
    (AccountLocked, 423),
    (NoPassword, 409),
    (ConfirmationRefused, 409),
    (OperationGone, 409),
    (InsufficientFunds, 409),
)
DOWNLOAD_TTL = timedelta(seconds=60)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
USER_KEY = web.AppKey("user_id", int)


class WebApp:
    def __init__(
        self,
        services: Services,
        i18n: I18n,
        clock: Clock,
        *,
        token: str,
        max_age: timedelta,
        confirm_gate: FloodGate,
        bot: Bot,
        frame_ancestors: tuple[str, ...] = TELEGRAM_FRAMES,
    ) -> None:
        self.services = services
        self.i18n = i18n
        self.clock = clock
        self._token = token
        self.max_age = max_age
        self.sessions = Sessions(token)
        # A download's ticket: Telegram's client fetches the file itself, with no header.
        self.tickets = Sessions(token, DOWNLOAD_TTL, purpose="history-csv")
        self.confirm_gate = confirm_gate  # confirmations per user, on top of the lockout
        self.bot = bot  # a gift's link, and the message a gift is shared as
        self.csp = CONTENT_SECURITY_POLICY.format(ancestors=" ".join(("'self'", *frame_ancestors)))

    def make_app(self) -> web.Application:
        """Mounted under a prefix (``/app/``) by whichever server hosts it."""
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._guard])
        app.router.add_get("/", self.page)
        app.router.add_static("/static/", STATIC, append_version=False)
        app.router.add_get("/api/texts", self.texts)
        app.router.add_post("/api/session", self.open_session)
        app.router.add_get("/api/wallet", self._as_user(self.wallet))
        app.router.add_get("/api/history", self._as_user(self.history))
        app.router.add_get("/api/chart", self._as_user(self.chart))
        app.router.add_post("/api/history/export", self._as_user(self.export_history))
        app.router.add_get("/api/history.csv", self.history_csv)
        app.router.add_get("/api/cashback", self._as_user(self.cashback))
        app.router.add_get("/api/orders", self._as_user(self.orders))
        app.router.add_post("/api/orders/{order_id:[0-9]{1,18}}/pay", self._as_user(self.pay_order))
        app.router.add_post(
            "/api/operations/{operation_id:[A-Za-z0-9_-]{1,40}}/nonce",
            self._as_user(self.new_nonce),
        )
        app.router.add_post("/api/cashback/move", self._as_user(self.move_cashback))
        app.router.add_post("/api/cashback/withdraw", self._as_user(self.withdraw_cashback))
        app.router.add_post("/api/gifts", self._as_user(self.give_gift))
        app.router.add_post(
            "/api/gifts/{code:[a-z0-9]{4,40}}/share", self._as_user(self.share_gift)
        )
        app.router.add_get("/api/cards", self._as_user(self.cards))
        app.router.add_post("/api/confirm", self._as_user(self.confirm))
        return app

    # --- around every request ----------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except Unauthorized as refused:
            log.warning(
                "event=webapp_refused reason=%s path=%s remote=%s",
                refused.reason,
                request.path,
                request.remote,
            )
            response = web.json_response({"error": "unauthorized"}, status=401)
        except web.HTTPException as exc:
            response = exc
        except Exception:
            log.exception("event=webapp_error path=%s method=%s", request.path, request.method)
            response = web.json_response({"error": "internal"}, status=500)
        response.headers["Content-Security-Policy"] = self.csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def _as_user(
        self, handler: Callable[[web.Request, int], Awaitable[web.StreamResponse]]
    ) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            session = request.headers.get(SESSION_HEADER, "")
            user_id = self.sessions.user_of(session, self.clock.now())
            try:
                return await handler(request, user_id)
            except DomainError as refused:
                return await self._refusal(user_id, refused)

        return checked

    async def _refusal(self, user_id: int, refused: DomainError) -> web.StreamResponse:
        """A domain error as the chat would word it, in plain text, with its own status."""
        t = await self._translator(user_id)
        status = next((code for kind, code in STATUSES if isinstance(refused, kind)), 400)
        body: dict[str, Any] = {"error": refused.key, "message": shapes.plain(t.error(refused))}
        if isinstance(refused, WrongPassword):
            body["attempts_left"] = refused.params.get("attempts_left")
        log.info("event=webapp_refusal user_id=%s error=%s", user_id, refused.key)
        return web.json_response(body, status=status)

    async def _translator(self, user_id: int) -> Translator:
        return self.i18n.for_user(await self.services.users.get(user_id))

    # --- the page and the session ---------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    async def open_session(self, request: web.Request) -> web.StreamResponse:
        """``{"init_data": ...}`` from Telegram's client: a session, and the page's words."""
        try:
            body = await request.json()
        except ValueError:
            raise Unauthorized("body") from None
        init_data = body.get("init_data") if isinstance(body, dict) else None
        if not isinstance(init_data, str):
            raise Unauthorized("no_init_data")
        now = self.clock.now()
        viewer = viewer_of(check_init_data(self._token, init_data, now=now, max_age=self.max_age))
        user = await self.services.users.touch(
            viewer.user_id, viewer.first_name, viewer.language_code
        )
        t = self.i18n.for_user(user)
        return web.json_response(
            {
                "session": self.sessions.issue(user.id, now),
                "expires_in": int(self.sessions.ttl.total_seconds()),
                "locale": t.locale,
                "first_name": user.first_name,
                "texts": _page_texts(t),
            }
        )

    async def texts(self, request: web.Request) -> web.StreamResponse:
        """The page's words in a browser's language, before (or without) a session."""
        client = request.query.get("locale", "")[:35]
        t = self.i18n(self.i18n.pick(None, client))
        return web.json_response({"locale": t.locale, "texts": _page_texts(t)})

    # --- reading ----------------------------------------------------------------------------------

    async def wallet(self, request: web.Request, user_id: int) -> web.StreamResponse:
        t = await self._translator(user_id)
        number = shapes.page_number(request)
        wallet = await self.services.cashback.wallet(user_id)
        held = await self.services.certificates.page(user_id, number)
        next_release = wallet.next_release
        return web.json_response(
            {
                "balance": shapes.money(t, wallet.balance),
                "live_certificates": t("webapp-live-certificates", count=wallet.certificates),
                "certificates": shapes.paged(held.page, lambda item: shapes.certificate(t, item)),
                "cashback": {
                    "available": shapes.money(t, wallet.available),
                    "on_hold": shapes.money(t, wallet.on_hold),
                    "pending": shapes.money(t, wallet.pending),
                    "next_release": None
                    if next_release is None or next_release.hold_until is None
                    else {
                        "amount": shapes.money(t, next_release.amount),
                        "date": t.date(next_release.hold_until),
                    },
                },
            }
        )

    async def history(self, request: web.Request, user_id: int) -> web.StreamResponse:
        t = await self._translator(user_id)
        before = shapes.cursor(request)
        items, older = await self.services.ledger.history_page(user_id, before_entry=before)
        moved = [shapes.movement(t, item) for item in items]
        return web.json_response({"items": moved, "older": older})

    async def export_history(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """Where the CSV can be fetched without the session: a ticket for this user's history
        file only, good for a minute (``downloadFile`` cannot send a header)."""
        ticket = self.tickets.issue(user_id, self.clock.now())
        return web.json_response(
            {
                "url": f"api/history.csv?ticket={ticket}",
                "file_name": f"giftwallet-history-{user_id}.csv",
            }
        )

    async def history_csv(self, request: web.Request) -> web.StreamResponse:
        user_id = self.tickets.user_of(request.query.get("ticket", ""), self.clock.now())
        t = await self._translator(user_id)
        data = history_csv(t, await self.services.ledger.full_history(user_id))
        return web.Response(
            body=data,
            content_type="text/csv",
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="giftwallet-history-{user_id}.csv"'
            },
        )

    async def chart(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """The balance after each change, oldest first: the newest CHART_POINTS of them."""
        t = await self._translator(user_id)
        items = await self.services.ledger.history(user_id, limit=CHART_POINTS * 3)
        points = [
            {"at": item.created_at.isoformat(), "minor": item.balance_after.minor}
            for item in reversed(items)
            if item.account == "balance"
        ][-CHART_POINTS:]
        wallet = await self.services.cashback.wallet(user_id)
        return web.json_response({"points": points, "balance": shapes.money(t, wallet.balance)})

    async def cashback(self, request: web.Request, user_id: int) -> web.StreamResponse:
        t = await self._translator(user_id)
        page = await self.services.cashback.page(user_id, shapes.page_number(request))
        return web.json_response(shapes.paged(page, lambda item: shapes.accrual(t, item)))

    async def orders(self, request: web.Request, user_id: int) -> web.StreamResponse:
        t = await self._translator(user_id)
        page = await self.services.orders.page(user_id, shapes.page_number(request))
        return web.json_response(shapes.paged(page, lambda item: shapes.order(t, item)))

    # --- spending, confirmed in the app -------------------------------------------------------

    async def pay_order(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """The order's pending payment (the same one the chat confirms), with a nonce."""
        order_id = int(request.match_info["order_id"])
        body = await shapes.json_object(request)
        operation = await self.services.orders.prepare_payment(user_id, order_id)
        order = (await self.services.orders.view(user_id, order_id)).order
        t = await self._translator(user_id)
        return await self._to_confirm(t, user_id, operation, order.title, shapes.device(body))

    async def move_cashback(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """Available cashback onto the balance (as much as the balance cap leaves room for)."""
        body = await shapes.json_object(request)
        operation = await self.services.cashback.prepare_move(user_id)
        t = await self._translator(user_id)
        title = t("webapp-move-title")
        return await self._to_confirm(t, user_id, operation, title, shapes.device(body))

    async def withdraw_cashback(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """All available cashback to one of the user's saved cards."""
        body = await shapes.json_object(request)
        card_id = body.get("card_id")
        if type(card_id) is not int or not 0 < card_id < 2**53:
            raise shapes.bad_request("card_id")
        operation = await self.services.cashback.prepare_withdrawal(user_id, card_id)
        t = await self._translator(user_id)
        title = t("webapp-withdraw-title", last4=str(operation.payload.get("last4", "")))
        return await self._to_confirm(t, user_id, operation, title, shapes.device(body))

    async def give_gift(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """A gift certificate paid from the balance: ``{"amount": "10.00", "note": ...}``."""
        body = await shapes.json_object(request)
        amount_text = shapes.text_field(body, "amount") or ""
        note = (shapes.text_field(body, "note") or "").strip() or None
        t = await self._translator(user_id)
        amount = Money.parse(amount_text, t.currency)
        operation = await self.services.gifts.prepare_from_balance(user_id, amount, note)
        title = t("webapp-gift-title")
        return await self._to_confirm(t, user_id, operation, title, shapes.device(body))

    async def share_gift(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """The giver's unclaimed gift as a prepared message, for the app's ``shareMessage``:
        the same card inline mode sends, into a chat the giver picks."""
        gift = await self.services.gifts.shareable(user_id, request.match_info["code"])
        if gift is None:
            raise web.HTTPNotFound(text='{"error": "gift"}', content_type="application/json")
        t = await self._translator(user_id)
        card = shared_card(t, gift, await self._bot_username())
        prepared = await self.bot.save_prepared_inline_message(
            user_id=user_id,
            result=card,
            allow_user_chats=True,
            allow_group_chats=True,
        )
        return web.json_response({"prepared_id": prepared.id})

    async def _bot_username(self) -> str:
        return (await self.bot.me()).username or ""

    async def cards(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """The saved cards, masked as everywhere: a brand and the last 4 digits."""
        saved = await self.services.cards.cards(user_id)
        items = [{"id": card.id, "label": f"{card.brand} •••• {card.last4}"} for card in saved]
        return web.json_response({"items": items})

    async def new_nonce(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """Another try at the same operation (after a wrong password): a new nonce."""
        nonce = await self.services.security.issue_nonce(
            user_id, request.match_info["operation_id"]
        )
        return web.json_response({"nonce": nonce, "expires_in": _nonce_seconds()})

    async def _to_confirm(
        self,
        t: Translator,
        user_id: int,
        operation: PendingOperation,
        title: str,
        device_id: str | None,
    ) -> web.StreamResponse:
        security = self.services.security
        nonce = await security.issue_nonce(user_id, operation.id)
        enrolled = device_id is not None and await security.has_device(user_id, device_id)
        return web.json_response(
            {
                "operation": operation.id,
                "title": title,
                "amount": shapes.optional_money(t, operation.amount),
                "nonce": nonce,
                "expires_in": _nonce_seconds(),
                "device_enrolled": enrolled,
            }
        )

    async def confirm(self, request: web.Request, user_id: int) -> web.StreamResponse:
        """``{nonce, password, enroll_device?}`` or ``{nonce, device_id, biometric_token}``."""
        allowed, _ = await self.confirm_gate.admit(user_id)
        if not allowed:
            log.warning("event=webapp_confirm_throttled user_id=%s", user_id)
            return web.json_response(
                {"error": "too_many"}, status=429, headers={"Retry-After": "10"}
            )
        body = await shapes.json_object(request)
        nonce = shapes.text_field(body, "nonce")
        security = self.services.security
        token = shapes.text_field(body, "biometric_token")
        fresh: str | None
        if token is not None:
            device = shapes.text_field(body, "device_id")
            if device is None or nonce is None:
                raise ConfirmationRefused()
            operation, fresh = await security.confirm_with_biometrics(user_id, nonce, device, token)
        else:
            password = shapes.text_field(body, "password")
            if nonce is None or password is None:
                raise ConfirmationRefused()
            enroll = shapes.text_field(body, "enroll_device")
            operation, fresh = await security.confirm_with_password(
                user_id, nonce, password, enroll_device=enroll
            )
        t = await self._translator(user_id)
        answer: dict[str, Any] = {
            "done": True,
            "kind": operation.kind,
            "result": operation.result_id,
            "amount": shapes.optional_money(t, operation.amount),
            "biometric_token": fresh,
            "message": t(f"webapp-done-{operation.kind.replace('_', '-')}"),
        }
        if operation.kind == FROM_BALANCE:
            gift = await self.services.gifts.made_by(operation)
            answer["gift"] = {
                "code": gift.code,
                "link": gift_link(await self._bot_username(), gift.code),
                "expires": t.date(gift.expires_at),
            }
        return web.json_response(answer)


def _page_texts(t: Translator) -> dict[str, str]:
    return {key: t(key) for key in PAGE_TEXTS}


def _nonce_seconds() -> int:
    return int(NONCE_TTL.total_seconds())
