"""The Mini App's answers and requests, as JSON: what each record looks like on the page, and
the strict reading of what the page sends (a malformed field is a 400 naming it)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.domain.models import Accrual, Certificate, HistoryItem, Order, Page
from bot.domain.money import Money
from bot.i18n import Translator
from bot.screens.cashback import accrual_state
from bot.screens.history import account_name, describe

MAX_SECRET = 256  # a password, a nonce, a token or a device id is far shorter


def money(t: Translator, amount: Money) -> dict[str, Any]:
    return {"minor": amount.minor, "text": t.money(amount)}


def optional_money(t: Translator, amount: Money | None) -> dict[str, Any] | None:
    return None if amount is None else money(t, amount)


def bad_request(field: str) -> web.HTTPBadRequest:
    """400 naming the field that is malformed, as JSON like every other answer here."""
    return web.HTTPBadRequest(text=f'{{"error": "{field}"}}', content_type="application/json")


def paged(page: Page[Any], shape: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": [shape(item) for item in page.items],
        "page": page.number,
        "pages": page.pages,
        "total": page.total,
        "more": page.more,
    }


def certificate(t: Translator, item: Certificate) -> dict[str, Any]:
    return {
        "id": item.id,
        "left": t(
            "webapp-certificate-left",
            remaining=t.money(item.remaining),
            nominal=t.money(item.nominal),
        ),
        "spent": item.remaining.minor == 0,
        "source": t(f"webapp-source-{item.source}"),
        "date": t.date(item.created_at),
    }


def movement(t: Translator, item: HistoryItem) -> dict[str, Any]:
    return {
        "entry": item.entry_id,
        "date": t.date(item.created_at),
        "what": describe(t, item),
        "account": account_name(t, item),
        "amount": money(t, item.amount),
        "after": money(t, item.balance_after),
    }


def accrual(t: Translator, item: Accrual) -> dict[str, Any]:
    source = (
        t("accrual-source-order", order=item.order_id)
        if item.order_id is not None
        else t("accrual-source-certificate")
    )
    return {
        "id": item.id,
        "date": t.date(item.created_at),
        "source": source,
        "amount": money(t, item.amount),
        "status": str(item.status),
        "state": accrual_state(t, item),
    }


def order(t: Translator, item: Order) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "date": t.date(item.created_at),
        "amount": money(t, item.amount),
        "cashback": money(t, item.cashback),
        "status": str(item.status),
        "state": t(f"order-status-{item.status.replace('_', '-')}"),
    }


def plain(text: str) -> str:
    """A chat message's words without its HTML: the page shows text, never markup."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def json_object(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("json") from None
    if not isinstance(body, dict):
        raise bad_request("json")
    return body


def text_field(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_SECRET:
        raise bad_request(name)
    return value


def device(body: dict[str, Any]) -> str | None:
    return text_field(body, "device_id") or None


def page_number(request: web.Request) -> int:
    raw = request.query.get("page", "0")
    if not raw.isdigit() or len(raw) > 6:
        raise bad_request("page")
    return int(raw)


def cursor(request: web.Request) -> int | None:
    raw = request.query.get("before")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise bad_request("before")
    return int(raw)
