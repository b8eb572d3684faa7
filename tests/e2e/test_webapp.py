"""The Mini App against the real bot, on both backends: a session opened from initData that
Telegram signed, the dashboard's reads for that user only, and every refusal a 401 that says
nothing more. The bot serves it at /app/ of its own HTTP server, as in production."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.domain.errors import AccountLocked
from bot.emulator import BotAPIEmulator
from bot.emulator.webapp import init_data_for
from bot.playground.delivery import free_port
from bot.services.cards import check_number
from tests.conftest import TOKEN, RunningBot
from tests.e2e.test_certificates import buy
from tests.e2e.test_security_dialogues import ANSWERS, PASSWORD, set_up
from tests.e2e.test_skeleton import say

ALICE, BOB = 1001, 1002
PEOPLE = {
    ALICE: {"id": ALICE, "first_name": "Alice", "language_code": "en"},
    BOB: {"id": BOB, "first_name": "Борис", "language_code": "ru"},
}
DAY = 86400


class MiniApp:
    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base = base
        self.http = http

    async def open(self, user_id: int, age: int = 60, token: str = TOKEN) -> tuple[int, Any]:
        init_data = init_data_for(token, PEOPLE[user_id], int(time.time()) - age)
        return await self.post("api/session", {"init_data": init_data})

    async def session(self, user_id: int) -> str:
        status, body = await self.open(user_id)
        assert status == 200, body
        return str(body["session"])

    async def post(self, path: str, payload: Any) -> tuple[int, Any]:
        async with self.http.post(self.base + path, json=payload) as response:
            return response.status, await response.json()

    async def post_as(self, session: str, path: str, payload: Any) -> tuple[int, Any]:
        async with self.http.post(
            self.base + path, json=payload, headers={"X-Session": session}
        ) as response:
            return response.status, await response.json()

    async def get(self, path: str, session: str | None = None) -> tuple[int, Any]:
        headers = {"X-Session": session} if session is not None else {}
        async with self.http.get(self.base + path, headers=headers) as response:
            return response.status, await response.json()


@pytest.fixture
async def app(emulator: BotAPIEmulator, start_bot: Any) -> AsyncIterator[tuple[MiniApp, Any]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/app/"
    bot: RunningBot = await start_bot(webapp_url=url, webhook_port=port)
    for person in PEOPLE.values():
        emulator.add_user(person["id"], person["first_name"], language_code=person["language_code"])
    async with aiohttp.ClientSession() as http:
        yield MiniApp(url, http), bot


async def test_the_dashboard_reads_the_users_own_wallet(
    app: tuple[MiniApp, Any], emulator: BotAPIEmulator
) -> None:
    mini, bot = app
    await say(emulator, ALICE, "/start")
    await buy(emulator, bot, ALICE, "$10")

    status, opened = await mini.open(ALICE)
    assert status == 200
    assert opened["locale"] == "en" and opened["expires_in"] == 900
    assert opened["texts"]["webapp-tab-history"] == "History"
    session = opened["session"]

    status, wallet = await mini.get("api/wallet", session)
    assert status == 200
    assert wallet["balance"] == {"minor": 1000, "text": "$10.00"}
    assert wallet["live_certificates"] == "one certificate with money left"
    [certificate] = wallet["certificates"]["items"]
    assert (certificate["left"], certificate["source"]) == ("$10.00 of $10.00", "bought")
    assert wallet["cashback"]["available"]["minor"] == 10  # 1% of a certificate, at once

    status, history = await mini.get("api/history", session)
    assert status == 200
    assert [item["amount"]["minor"] for item in history["items"]] == [10, 1000]
    assert history["older"] is None
    status, chart = await mini.get("api/chart", session)
    assert [point["minor"] for point in chart["points"]] == [1000]
    status, accruals = await mini.get("api/cashback", session)
    assert [item["amount"]["minor"] for item in accruals["items"]] == [10]
    status, orders = await mini.get("api/orders", session)
    assert (status, orders["total"]) == (200, 0)

    # The CSV, fetched as Telegram's downloadFile does: no header, a ticket for a minute.
    status, export = await mini.post_as(session, "api/history/export", {})
    assert status == 200 and export["file_name"] == f"giftwallet-history-{ALICE}.csv"
    async with mini.http.get(mini.base + export["url"]) as response:
        assert response.status == 200 and response.content_type == "text/csv"
        rows = (await response.text()).splitlines()
    assert rows[0].startswith("date,entry,operation") and len(rows) == 3
    ticket = export["url"].split("ticket=")[1]
    for wrong in (session, ticket[:-2] + "xx", ""):  # a session is no ticket
        async with mini.http.get(mini.base + f"api/history.csv?ticket={wrong}") as response:
            assert response.status == 401
    bot.app.clock.advance(timedelta(seconds=61))
    async with mini.http.get(mini.base + export["url"]) as response:
        assert response.status == 401

    # Bob, who never wrote to the bot, opens the app: his own empty wallet, in Russian.
    status, opened = await mini.open(BOB)
    assert status == 200 and opened["locale"] == "ru"
    status, wallet = await mini.get("api/wallet", opened["session"])
    assert wallet["balance"]["minor"] == 0 and wallet["certificates"]["items"] == []
    status, history = await mini.get("api/history", opened["session"])
    assert history["items"] == []


async def test_refusals_are_401_and_change_nothing(app: tuple[MiniApp, Any]) -> None:
    mini, bot = app
    session = await mini.session(ALICE)
    user, expires, mac = session.split(".")
    for forged in ("", "nonsense", f"{BOB}.{expires}.{mac}", f"{user}.{int(expires) + 60}.{mac}"):
        assert await mini.get("api/wallet", forged) == (401, {"error": "unauthorized"})
    assert await mini.get("api/wallet") == (401, {"error": "unauthorized"})
    assert (await mini.open(ALICE, age=8 * DAY))[0] == 401  # older than the default week
    assert (await mini.open(ALICE, age=2 * DAY))[0] == 200  # cached by the client: fine
    assert (await mini.open(ALICE, age=-600))[0] == 401  # from the future
    assert (await mini.open(ALICE, token="654321:another-bots-token-for-this-test"))[0] == 401
    assert (await mini.post("api/session", {"init_data": "user=1&hash=00"}))[0] == 401
    assert (await mini.post("api/session", ["not", "an", "object"]))[0] == 401
    assert (await mini.get("api/wallet?page=abc", session))[0] == 400
    assert (await mini.get("api/history?before=-1", session))[0] == 400
    # A refused initData registers nobody.
    async with bot.app.db.read() as uow:
        assert await uow.users.get(BOB) is None


async def test_the_page_has_a_strict_policy_and_no_inline_code(app: tuple[MiniApp, Any]) -> None:
    mini, _ = app
    async with mini.http.get(mini.base) as response:
        assert response.status == 200
        policy = response.headers["Content-Security-Policy"]
        page = await response.text()
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert "frame-ancestors 'self' https://web.telegram.org" in policy
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert " style=" not in page and "<style" not in page and " on" not in page.replace("\n", " ")
    async with mini.http.get(mini.base + "static/app.js") as response:
        assert response.status == 200
        assert "innerHTML" not in await response.text()
    async with mini.http.get(mini.base.rstrip("/"), allow_redirects=False) as response:
        assert response.status == 308 and response.headers["Location"] == "/app/"
    status, words = await mini.get("api/texts?locale=ru-RU")
    assert (status, words["locale"]) == (200, "ru")
    assert words["texts"]["webapp-open-in-telegram"].startswith("Откройте")


async def test_the_chat_opens_the_app_and_the_menu_button_points_at_it(
    app: tuple[MiniApp, Any], emulator: BotAPIEmulator
) -> None:
    mini, _ = app
    button = emulator.calls("setChatMenuButton")[-1].params["menu_button"]
    button = json.loads(button) if isinstance(button, str) else button
    assert button["type"] == "web_app" and button["web_app"]["url"] == mini.base
    answer = await say(emulator, ALICE, "/app")
    markup = answer.params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    assert markup["inline_keyboard"][0][0]["web_app"] == {"url": mini.base}


async def test_without_a_url_the_app_is_not_served_and_app_says_so(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    answer = await say(emulator, ALICE, "/app")
    assert "not set up" in answer.params["text"]
    assert not emulator.calls("setChatMenuButton")


# --- spending confirmed in the app ---------------------------------------------------------------

ADMIN, OPERATORS = 4242, -100500


async def shop_with_app(
    emulator: BotAPIEmulator, start_bot: Any, **settings: Any
) -> tuple[MiniApp, RunningBot]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/app/"
    bot: RunningBot = await start_bot(
        webapp_url=url,
        webhook_port=port,
        admin_ids=str(ADMIN),
        support_chat_id=str(OPERATORS),
        **settings,
    )
    for person in PEOPLE.values():
        emulator.add_user(person["id"], person["first_name"], language_code=person["language_code"])
    emulator.add_user(ADMIN, "Operator")
    emulator.add_group_chat(OPERATORS, "Operators", members=[ADMIN])
    await set_up(emulator, ALICE, ANSWERS)
    await buy(emulator, bot, ALICE, "$50")
    return MiniApp(url, aiohttp.ClientSession()), bot


async def bill(emulator: BotAPIEmulator, amount: str, title: str) -> int:
    done = await say(emulator, ADMIN, f"/admin_order {ALICE} {amount} {title}")
    found = re.search(r"#(\d+)", done.params["text"])
    assert found is not None, done.params["text"]
    return int(found.group(1))


async def balance_of(bot: RunningBot, user_id: int) -> int:
    return (await bot.app.services.ledger.balances(user_id)).balance.minor


async def test_an_order_is_paid_with_the_password_then_with_biometrics(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    mini, bot = await shop_with_app(emulator, start_bot)
    try:
        session = await mini.session(ALICE)
        first = await bill(emulator, "12.01", "Lamp")
        phone = {"device_id": "phone"}
        status, step = await mini.post_as(session, f"api/orders/{first}/pay", phone)
        assert status == 200 and step["amount"]["minor"] == 1201 and step["title"] == "Lamp"
        assert step["device_enrolled"] is False and step["expires_in"] == 120

        status, wrong = await mini.post_as(
            session, "api/confirm", {"nonce": step["nonce"], "password": "not-it-at-all"}
        )
        assert (status, wrong["error"], wrong["attempts_left"]) == (403, "error-wrong-password", 4)
        # The nonce went with that try: sent again, with the right password, it is refused.
        status, replay = await mini.post_as(
            session, "api/confirm", {"nonce": step["nonce"], "password": PASSWORD}
        )
        assert (status, replay["error"]) == (409, "error-confirmation-refused")
        assert await balance_of(bot, ALICE) == 5000

        status, again = await mini.post_as(session, f"api/operations/{step['operation']}/nonce", {})
        assert status == 200
        status, done = await mini.post_as(
            session,
            "api/confirm",
            {"nonce": again["nonce"], "password": PASSWORD, "enroll_device": "phone"},
        )
        assert status == 200 and done["kind"] == "order_pay" and done["result"] == first
        token = done["biometric_token"]
        assert token and len(token) >= 40
        assert await balance_of(bot, ALICE) == 5000 - 1201
        # The chat's own path finds the operation done: one payment, whichever path confirms.
        status, _ = await mini.post_as(session, f"api/orders/{first}/pay", {})
        assert status >= 400 and await balance_of(bot, ALICE) == 5000 - 1201
        # The chat keeps the record: a receipt for the spend, sent with the money step.
        receipt = await emulator.wait_for_call(
            "sendMessage",
            lambda c: int(c.params["chat_id"]) == ALICE and "in the app" in c.params["text"],
        )
        assert f"order #{first} paid, $12.01" in receipt.params["text"]

        second = await bill(emulator, "3.00", "Cable")
        status, step = await mini.post_as(session, f"api/orders/{second}/pay", phone)
        assert step["device_enrolled"] is True
        status, refused = await mini.post_as(
            session,
            "api/confirm",
            {"nonce": step["nonce"], "device_id": "tablet", "biometric_token": token},
        )
        assert (status, refused["error"]) == (409, "error-confirmation-refused")  # another device
        status, again = await mini.post_as(session, f"api/operations/{step['operation']}/nonce", {})
        status, done = await mini.post_as(
            session,
            "api/confirm",
            {"nonce": again["nonce"], "device_id": "phone", "biometric_token": token},
        )
        assert status == 200 and done["result"] == second
        rotated = done["biometric_token"]
        assert rotated != token
        assert await balance_of(bot, ALICE) == 5000 - 1201 - 300

        third = await bill(emulator, "1.00", "Sticker")
        status, step = await mini.post_as(session, f"api/orders/{third}/pay", {})
        used = {"nonce": step["nonce"], "device_id": "phone", "biometric_token": token}
        assert (await mini.post_as(session, "api/confirm", used))[0] == 409  # replaced on use

        # A new password ends every device's token.
        hashed = await bot.app.services.security.hash_new_password("Another-Secret-9")
        await bot.app.services.security.set_password(ALICE, hashed)
        status, again = await mini.post_as(session, f"api/operations/{step['operation']}/nonce", {})
        revoked = {"nonce": again["nonce"], "device_id": "phone", "biometric_token": rotated}
        assert (await mini.post_as(session, "api/confirm", revoked))[0] == 409
        assert await balance_of(bot, ALICE) == 5000 - 1201 - 300
        assert await bot.app.services.ledger.check_invariants() == []
        await bot.notices_out()
        receipts = [
            c
            for c in emulator.calls("sendMessage")
            if int(c.params["chat_id"]) == ALICE and "in the app" in c.params["text"]
        ]
        assert len(receipts) == 2  # one a spend: the refused tries left none
    finally:
        await mini.http.close()


async def test_others_orders_lockout_and_throttling(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    mini, bot = await shop_with_app(emulator, start_bot)
    try:
        order = await bill(emulator, "5.00", "Mug")
        bob = await mini.session(BOB)
        status, refused = await mini.post_as(bob, f"api/orders/{order}/pay", {})
        assert status == 400 and refused["error"].startswith("order-refused")
        assert "Mug" not in json.dumps(refused)

        alice = await mini.session(ALICE)
        codes = []
        for _ in range(5):
            status, step = await mini.post_as(alice, f"api/orders/{order}/pay", {})
            assert status == 200, step
            status, _ = await mini.post_as(
                alice, "api/confirm", {"nonce": step["nonce"], "password": "wrong-password"}
            )
            codes.append(status)
        assert codes == [403, 403, 403, 403, 423]  # the chat's lockout: 5 failures
        status, step = await mini.post_as(alice, f"api/orders/{order}/pay", {})
        status, locked = await mini.post_as(
            alice, "api/confirm", {"nonce": step["nonce"], "password": PASSWORD}
        )
        assert status == 423 and "<" not in locked["message"]
        assert await balance_of(bot, ALICE) == 5000
        with pytest.raises(AccountLocked):  # the one lockout the chat's confirmation meets too
            await bot.app.services.security.ensure_unlocked(ALICE)

        garbage = [
            (await mini.post_as(bob, "api/confirm", {"nonce": "x", "password": "y"}))[0]
            for _ in range(12)
        ]
        assert garbage[:10] == [409] * 10 and garbage[10:] == [429, 429]
    finally:
        await mini.http.close()


async def test_cashback_and_a_gift_are_confirmed_in_the_app(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    mini, bot = await shop_with_app(emulator, start_bot, withdraw_min="0.10")
    services = bot.app.services
    try:
        session = await mini.session(ALICE)
        status, refused = await mini.post_as(session, "api/cashback/withdraw", {"card_id": 99})
        assert (status, refused["error"]) == (400, "cashback-refused-no-card")
        card = await services.cards.add(ALICE, check_number("4111 1111 1111 1111"), "12/30")
        status, cards = await mini.get("api/cards", session)
        assert cards["items"] == [{"id": card.id, "label": "Visa •••• 1111"}]

        status, step = await mini.post_as(session, "api/cashback/withdraw", {"card_id": card.id})
        assert status == 200 and step["amount"]["minor"] == 50 and "1111" in step["title"]
        status, done = await mini.post_as(
            session, "api/confirm", {"nonce": step["nonce"], "password": PASSWORD}
        )
        assert status == 200 and done["kind"] == "cashback_withdraw"
        assert (await services.ledger.balances(ALICE)).cashback_available.minor == 0

        status, nothing = await mini.post_as(session, "api/cashback/move", {})
        assert (status, nothing["error"]) == (400, "cashback-refused-nothing")

        for wrong in ("-5", "1e3", "abc", "10.001"):
            status, bad = await mini.post_as(session, "api/gifts", {"amount": wrong})
            assert status == 400 and bad["message"], wrong
        status, step = await mini.post_as(session, "api/gifts", {"amount": "10", "note": "С днём!"})
        assert status == 200 and step["amount"]["minor"] == 1000
        status, done = await mini.post_as(
            session, "api/confirm", {"nonce": step["nonce"], "password": PASSWORD}
        )
        assert status == 200 and done["kind"] == "gift_from_balance"
        gift = done["gift"]
        assert gift["link"].endswith(f"?start=gift_{gift['code']}") and len(gift["code"]) >= 8
        assert await balance_of(bot, ALICE) == 5000 - 1000
        assert await services.ledger.check_invariants() == []

        # Shared from the app: the same card inline mode sends, prepared for shareMessage.
        status, shared = await mini.post_as(session, f"api/gifts/{gift['code']}/share", {})
        assert status == 200
        prepared = emulator.prepared_message(shared["prepared_id"])
        assert prepared is not None and prepared["user_id"] == ALICE
        assert "$10.00" in prepared["result"]["input_message_content"]["message_text"]
        bob = await mini.session(BOB)
        assert (await mini.post_as(bob, f"api/gifts/{gift['code']}/share", {}))[0] == 404
    finally:
        await mini.http.close()
