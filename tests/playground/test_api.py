"""The playground's page API: chats, buttons, inline mode, faults, time travel, inspector."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest

from bot.domain.money import Money
from bot.playground.server import Playground
from bot.playground.settings import DEMO_USERS, PLAYGROUND_TOKEN
from bot.services.ledger import TELEGRAM_PAYMENTS, Account

ANNA, BEN = DEMO_USERS[0].id, DEMO_USERS[1].id


async def post(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> Any:
    async with http.post(path, json=body) as response:
        return response.status, await response.json()


async def get(http: aiohttp.ClientSession, path: str) -> Any:
    async with http.get(path) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def say(playground: Playground, http: aiohttp.ClientSession, user: int, text: str) -> Any:
    mark = playground.emulator.call_count()
    status, _ = await post(http, "/api/send", {"user_id": user, "text": text})
    assert status == 200
    return await playground.emulator.wait_for_call(
        "sendMessage", lambda c: int(c.params["chat_id"]) == user, after=mark
    )


async def test_page_and_assets_are_served(http: aiohttp.ClientSession) -> None:
    for path, kind in (
        ("/", "text/html"),
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
    ):
        async with http.get(path) as response:
            assert response.status == 200 and response.content_type == kind
    async with http.get("/static/../server.py") as response:
        assert response.status == 404


async def test_state_lists_people_and_the_operators_chat(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    state = await get(http, "/api/state")
    assert [u["id"] for u in state["users"]] == [u.id for u in DEMO_USERS]
    assert [u["id"] for u in state["users"] if u["operator"]] == [900]
    assert state["operators_chat"]["id"] == playground.app.settings.support_chat_id  # type: ignore[union-attr]
    # Nothing reaches Telegram: the bot talks to the page's own server.
    assert playground.app.settings.telegram_api_url == playground.url  # type: ignore[union-attr]


async def test_start_and_the_balance_button_edit_in_place(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    reply = await say(playground, http, ANNA, "/start")
    menu_id = reply.result["message_id"]
    mark = playground.emulator.call_count()
    status, body = await post(
        http, "/api/press", {"user_id": ANNA, "message_id": menu_id, "data": "m:balance"}
    )
    assert status == 200 and body["callback_query_id"]
    await playground.emulator.wait_for_call("answerCallbackQuery", after=mark)
    chat = await get(http, f"/api/chat/{ANNA}?language=ru")
    bot_messages = [m for m in chat["messages"] if m["from_bot"]]
    assert len(bot_messages) == 1 and "Сертификаты" in bot_messages[0]["text"]
    assert bot_messages[0]["edit_count"] == 1
    assert {c["command"] for c in chat["commands"]} >= {"start", "balance", "language"}


async def test_a_button_that_is_not_there_is_refused(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    reply = await say(playground, http, ANNA, "/start")
    status, body = await post(
        http,
        "/api/press",
        {"user_id": ANNA, "message_id": reply.result["message_id"], "data": "m:nope"},
    )
    assert status == 400 and "no button" in body["error"]
    status, body = await post(http, "/api/send", {"user_id": ANNA, "text": "  "})
    assert status == 400
    status, body = await post(http, "/api/send", {"user_id": "x", "text": "hi"})
    assert status == 400 and "not a number" in body["error"]


async def test_inline_mode_result_is_posted_via_the_bot(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    await say(playground, http, BEN, "/start")
    status, body = await post(http, "/api/inline", {"user_id": BEN, "query": ""})
    assert status == 200
    (result,) = body["results"]
    assert result["title"] == "Balance: $0.00 in 0 certificates"
    status, sent = await post(
        http,
        "/api/inline/send",
        {"user_id": BEN, "chat_id": BEN, "query_id": body["query_id"], "result_id": "balance"},
    )
    assert status == 200
    assert sent["message"]["via_bot"] == "giftwallet_bot"
    assert "Certificates: $0.00" in sent["message"]["text"]


async def test_added_user_talks_in_their_language(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    status, body = await post(http, "/api/users", {"name": "Вера", "language": "ru"})
    assert status == 200
    reply = await say(playground, http, body["id"], "/start")
    assert "Здравствуйте, <b>Вера</b>" in reply.params["text"]
    status, _ = await post(http, "/api/users", {"name": "", "language": "ru"})
    assert status == 400


async def test_flood_fault_is_waited_out_and_the_answer_arrives(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    status, body = await post(http, "/api/faults", {"kind": "flood"})
    assert status == 200 and "429" in body["armed"]
    mark = playground.emulator.call_count()
    await post(http, "/api/send", {"user_id": BEN, "text": "/start"})
    ok = await playground.emulator.wait_for_call(
        "sendMessage", lambda c: c.error is None, after=mark, timeout=10
    )
    failed = [c for c in playground.emulator.calls("sendMessage")[-2:] if c.error]
    assert failed and "retry after" in (failed[0].error or "").lower()
    assert "Hello, <b>Ben</b>" in ok.params["text"]


async def test_blocked_user_is_marked_unreachable(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    await say(playground, http, BEN, "/start")
    status, _ = await post(http, "/api/faults", {"kind": "block", "user_id": BEN})
    assert status == 200
    mark = playground.emulator.call_count()
    await post(http, "/api/send", {"user_id": BEN, "text": "/balance"})
    refused = await playground.emulator.wait_for_call("sendMessage", after=mark)
    assert refused.error_code == 403
    # The error handler has run once the inbox has nothing left in hand.
    assert playground.app is not None
    await asyncio.wait_for(playground.app.inbox.wait_idle(), timeout=5)
    inspector = await get(http, "/api/inspector")
    assert not next(u for u in inspector["users"] if u["id"] == BEN)["reachable"]
    state = await get(http, "/api/state")
    assert next(u for u in state["users"] if u["id"] == BEN)["blocked"]
    # Unblocking and writing again makes the user reachable again.
    await post(http, "/api/faults", {"kind": "block", "user_id": BEN, "blocked": False})
    await say(playground, http, BEN, "/start")
    inspector = await get(http, "/api/inspector")
    assert next(u for u in inspector["users"] if u["id"] == BEN)["reachable"]


async def test_time_travel_moves_the_clock_and_runs_jobs(
    playground: Playground, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    before = playground.clock.now()
    with caplog.at_level(logging.INFO, logger="bot.runtime.scheduler"):
        status, body = await post(http, "/api/time", {"step": "15days"})
    assert status == 200 and body["jobs_run"] >= 1
    # The ledger audit ran and found the books in order.
    assert "event=ledger_audit_ok" in caplog.text
    assert body["offset_seconds"] == 15 * 86400
    assert (playground.clock.now() - before).days == 15

    # A cached balance that no posting explains: the next audit reports it.
    assert playground.app is not None
    async with playground.app.db.unit_of_work() as uow:
        await uow.session.execute("UPDATE accounts SET balance = balance + 1 WHERE kind = 'orders'")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.runtime.scheduler"):
        status, _ = await post(http, "/api/time", {"step": "hour"})
    assert status == 200
    assert "event=ledger_invariant_violated" in caplog.text and "caches 1" in caplog.text
    status, _ = await post(http, "/api/time", {"step": "back"})
    assert status == 400


async def test_inspector_shows_balances_and_entries_through_the_services(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    await say(playground, http, ANNA, "/start")
    assert playground.app is not None
    async with playground.app.db.unit_of_work() as uow:
        await playground.app.services.ledger.transfer(
            uow,
            "tg-charge:demo",
            "certificate_purchase",
            TELEGRAM_PAYMENTS,
            Account.balance(ANNA),
            Money(16000, "USD"),
            user_id=ANNA,
        )
        await uow.certificates.add_certificate(
            ANNA, Money(16000, "USD"), "bought", playground.clock.now()
        )
    inspector = await get(http, "/api/inspector")
    anna = next(u for u in inspector["users"] if u["id"] == ANNA)
    assert anna["balance"] == "$160.00" and anna["certificates"] == 1
    (entry,) = inspector["journal"]
    assert entry["key"] == "tg-charge:demo"
    assert {leg["amount"] for leg in entry["legs"]} == {"$160.00", "\u2212$160.00"}
    assert inspector["problems"] == []


async def test_events_stream_reports_new_messages(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    async with http.get("/api/events") as stream:
        assert stream.content_type == "text/event-stream"
        await post(http, "/api/send", {"user_id": ANNA, "text": "/start"})
        seen = []
        async for raw in stream.content:
            line = raw.decode().strip()
            if line.startswith("data:"):
                seen.append(line)
                if '"from_bot"' in line or len(seen) >= 2:
                    break
        assert any(f'"chat_id": {ANNA}' in line for line in seen)


async def test_the_bot_api_is_mounted_with_the_playground_token(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get(f"/bot{PLAYGROUND_TOKEN}/getMe") as response:
        body = await response.json()
    assert body["ok"] and body["result"]["is_bot"]
    async with http.get("/bot123:wrong/getMe") as response:
        assert response.status == 401


async def test_the_page_api_refuses_other_sites_and_bad_bodies(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    # A form or text/plain POST (what another page can send without asking) is refused.
    async with http.post(
        "/api/send", data='{"user_id": 1001, "text": "hi"}', headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415
    async with http.post(
        "/api/users",
        json={"name": "Mallory", "language": "en"},
        headers={"Origin": "http://evil.example"},
    ) as response:
        assert response.status == 403
    # DNS rebinding: another name pointing at this address is not this server.
    async with http.get("/api/state", headers={"Host": "evil.example:80"}) as response:
        assert response.status == 421
    async with http.post(
        "/api/faults", json={"kind": "flood"}, headers={"Host": "evil.example"}
    ) as response:
        assert response.status == 421
    # Malformed, huge and absurd bodies get a 400 with a reason, never a 500.
    for body in (
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"user_id": 1001, "text": "' + b"a" * 300_000 + b'"}',
    ):
        async with http.post(
            "/api/send", data=body, headers={"Content-Type": "application/json"}
        ) as response:
            assert response.status == 400, (body[:20], await response.text())
    status, answer = await post(http, "/api/send", {"user_id": 10**30, "text": "hi"})
    assert status == 400 and "52 bits" in answer["error"]
    assert 10**30 not in [u["id"] for u in (await get(http, "/api/state"))["users"]]
    inspector = await get(http, "/api/inspector")
    assert inspector["problems"] == []


async def test_a_fault_switch_fires_once_and_says_so(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    events = playground.emulator.subscribe()
    status, _ = await post(http, "/api/faults", {"kind": "flood"})
    assert status == 200
    await say(playground, http, ANNA, "/start")
    await say(playground, http, ANNA, "/balance")
    failed = [c for c in playground.emulator.calls() if c.error_code == 429]
    assert len(failed) == 1
    fired = []
    while not events.empty():
        event = events.get_nowait()
        if event["type"] == "fault":
            fired.append(event)
    assert [(e["method"], e["error_code"], e["chat_id"]) for e in fired] == [
        ("sendMessage", 429, ANNA)
    ]


async def test_added_people_keep_their_ids_across_a_restart(tmp_path: Any) -> None:
    data_dir = tmp_path / "pg"
    first = Playground(port=0, data_dir=data_dir)
    await first.start()
    try:
        async with aiohttp.ClientSession(base_url=first.url) as http:
            _, created = await post(http, "/api/users", {"name": "Old", "language": "en"})
    finally:
        await first.stop()
    second = Playground(port=0, data_dir=data_dir)
    await second.start()
    try:
        async with aiohttp.ClientSession(base_url=second.url) as http:
            state = await get(http, "/api/state")
            assert {"id": created["id"], "name": "Old"}.items() <= next(
                u for u in state["users"] if u["id"] == created["id"]
            ).items()
            _, newer = await post(http, "/api/users", {"name": "New", "language": "ru"})
            assert newer["id"] > created["id"]
    finally:
        await second.stop()


async def test_a_restart_on_the_same_data_looks_like_nothing_happened(tmp_path: Any) -> None:
    """The bot hears the first messages after a restart (update ids carry on), the chats are
    still there, a payment before it is still known to Telegram, and time travel stays put."""
    data_dir = tmp_path / "pg"
    first = Playground(port=0, data_dir=data_dir)
    await first.start()
    try:
        async with aiohttp.ClientSession(base_url=first.url) as http:
            for text in ("/start", "/balance", "/help"):
                await say(first, http, ANNA, text)
            await post(http, "/api/time", {"step": "day"})
            before = await get(http, f"/api/chat/{ANNA}")
            travelled = (await get(http, "/api/state"))["offset_seconds"]
    finally:
        await first.stop()
    assert travelled == 24 * 3600

    second = Playground(port=0, data_dir=data_dir)
    await second.start()
    try:
        async with aiohttp.ClientSession(base_url=second.url) as http:
            state = await get(http, "/api/state")
            assert state["offset_seconds"] == travelled  # the clock stays where it was left
            kept = await get(http, f"/api/chat/{ANNA}")
            assert [m["text"] for m in kept["messages"]] == [m["text"] for m in before["messages"]]
            for text in ("/balance", "/start", "/help", "/balance"):  # each one is answered
                reply = await say(second, http, ANNA, text)
                assert reply.ok
            after = await get(http, f"/api/chat/{ANNA}")
            ids = [m["message_id"] for m in after["messages"]]
            assert ids == sorted(set(ids))  # message ids carry on too
            assert len(after["messages"]) == len(before["messages"]) + 8
    finally:
        await second.stop()


async def test_the_bot_restarts_on_webhooks_and_back_with_chats_kept(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    await say(playground, http, ANNA, "/start")
    status, delivery = await post(http, "/api/delivery", {"replicas": 1})
    assert status == 200, delivery
    assert delivery["label"] == "webhook · 1 replica"
    assert playground.emulator.webhook()["url"]
    reply = await say(playground, http, ANNA, "/balance")
    assert "Сертификаты" in reply.params["text"]
    state = await get(http, "/api/state")
    (replica,) = state["delivery"]["per_replica"]
    assert replica["delivered"] >= 1
    # Several replicas need a shared database: on its own SQLite the page says so.
    status, refused = await post(http, "/api/delivery", {"replicas": 3})
    assert status == 400 and "--database-url" in refused["error"]
    status, _ = await post(http, "/api/delivery", {"replicas": "3"})
    assert status == 400
    # And back to polling: the webhook is deleted, the chat goes on.
    status, delivery = await post(http, "/api/delivery", {"replicas": 0})
    assert status == 200 and delivery["label"] == "polling"
    assert not playground.emulator.webhook()["url"]
    reply = await say(playground, http, ANNA, "/balance")
    assert "Сертификаты" in reply.params["text"]
    chat = await get(http, f"/api/chat/{ANNA}")
    assert sum(1 for m in chat["messages"] if not m["from_bot"]) == 3


async def test_three_replicas_on_postgresql_and_redis_share_the_chats(
    tmp_path: Any, database_url: str, backend: str
) -> None:
    from tests.databases import REDIS_HINT, TEST_REDIS_URL

    if backend == "sqlite":
        pytest.skip("replicas share PostgreSQL")
    if not TEST_REDIS_URL:
        pytest.skip(REDIS_HINT)
    playground = Playground(
        port=0,
        data_dir=tmp_path / "playground",
        replicas=3,
        database_url=database_url,
        redis_url=TEST_REDIS_URL,
    )
    await playground.start()
    try:
        async with aiohttp.ClientSession(base_url=playground.url) as http:
            for text in ("/start", "/balance", "/help", "/balance"):
                await say(playground, http, BEN, text)
            state = await get(http, "/api/state")
            delivery = state["delivery"]
            assert delivery["label"] == "webhook · 3 replicas" and delivery["shared"]
            counts = [r["delivered"] for r in delivery["per_replica"]]
            assert sum(counts) >= 4 and sum(1 for n in counts if n) >= 2, counts
            status, refused = await post(http, "/api/reset", {"confirm": True})
            assert status == 400 and "fresh database" in refused["error"]
    finally:
        await playground.stop()
