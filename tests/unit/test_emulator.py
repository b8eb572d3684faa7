"""The Bot API emulator, exercised through a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    ChatMemberAdministrator,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
    TransactionPartnerFragment,
    TransactionPartnerUser,
)
from aiohttp import web

from bot.emulator import ApiError, BotAPIEmulator, Call, parse_html

TOKEN = "123456:TEST-token-for-the-emulator-unit-tests"
ALICE = 1001
BORIS = 1002
OPERATORS = -1001234567890


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons]
    )


class PlainHTTPSession(AiohttpSession):
    """aiogram's session without the 250 ms grace period it sleeps for closing TLS connections."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(emulator: BotAPIEmulator, token: str = TOKEN) -> Bot:
    session = PlainHTTPSession(api=TelegramAPIServer.from_base(emulator.base_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    server = BotAPIEmulator(token=TOKEN)
    await server.start()
    server.add_user(ALICE, "Alice", language_code="en", username="alice")
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bot(emulator: BotAPIEmulator) -> AsyncIterator[Bot]:
    tg = make_bot(emulator)
    try:
        yield tg
    finally:
        await tg.session.close()


async def raw(
    emulator: BotAPIEmulator,
    method: str,
    *,
    token: str = TOKEN,
    json_body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """A request without aiogram, to check the wire format itself."""
    url = f"{emulator.base_url}/bot{token}/{method}"
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=json_body, params=query) as response,
    ):
        return response.status, await response.json()


def drain(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


# ---------------------------------------------------------------------------- basics


async def test_get_me_parses_in_aiogram(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "giftwallet_bot" and me.id == 123456
    assert me.supports_inline_queries and me.can_join_groups is True
    assert me.can_read_all_group_messages is False


async def test_wrong_token_is_401_and_unknown_method_is_404(emulator: BotAPIEmulator) -> None:
    wrong = make_bot(emulator, token="123456:wrong")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()
    status, body = await raw(emulator, "frobnicate")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    # Method names are case-insensitive, as on Telegram.
    status, body = await raw(emulator, "GETME")
    assert status == 200 and body["result"]["username"] == "giftwallet_bot"


async def test_json_body_and_query_string_keep_string_params(emulator: BotAPIEmulator) -> None:
    status, body = await raw(emulator, "sendMessage", json_body={"chat_id": ALICE, "text": "123"})
    assert status == 200 and body["result"]["text"] == "123"
    status, body = await raw(emulator, "sendMessage", query={"chat_id": str(ALICE), "text": "true"})
    assert status == 200 and body["result"]["text"] == "true"
    assert [m["text"] for m in emulator.messages(ALICE)] == ["123", "true"]
    assert emulator.calls("sendMessage")[1].params == {"chat_id": ALICE, "text": "true"}


async def test_latency_is_added_to_every_call() -> None:
    server = BotAPIEmulator(token=TOKEN, latency=0.05)
    await server.start()
    try:
        loop = asyncio.get_running_loop()
        began = loop.time()
        status, _ = await raw(server, "getMe")
        assert status == 200 and loop.time() - began >= 0.05
    finally:
        await server.stop()


# ---------------------------------------------------------------------------- messages


async def test_send_edit_delete_update_state_and_events(emulator: BotAPIEmulator, bot: Bot) -> None:
    events = emulator.subscribe()
    sent = await bot.send_message(
        ALICE, "Hello, <b>Alice</b> &amp; co", reply_markup=keyboard(("Balance", "m:balance"))
    )
    assert isinstance(sent, Message) and sent.text == "Hello, Alice & co"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.reply_markup is not None
    record = emulator.last_message(ALICE)
    assert record is not None
    assert record["from_bot"] and record["text"] == "Hello, Alice & co"
    assert record["html"] == "Hello, <b>Alice</b> &amp; co"
    assert record["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "m:balance"
    [new] = drain(events)
    assert new["type"] == "message_new" and new["chat_id"] == ALICE
    assert new["message"]["message_id"] == sent.message_id
    json.dumps(emulator.snapshot(ALICE))  # the page gets plain JSON

    edited = await bot.edit_message_text(
        text="Balance: <i>$0</i>", chat_id=ALICE, message_id=sent.message_id
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    record = emulator.last_message(ALICE)
    assert record is not None and record["edit_count"] == 1
    # Editing without reply_markup removes the keyboard, as on Telegram.
    assert record["reply_markup"] is None and record["html"] == "Balance: <i>$0</i>"
    assert [e["type"] for e in drain(events)] == ["message_edited"]

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Balance: <i>$0</i>", chat_id=ALICE, message_id=sent.message_id
        )
    markup = keyboard(("Refresh", "m:refresh"))
    await bot.edit_message_reply_markup(
        chat_id=ALICE, message_id=sent.message_id, reply_markup=markup
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ALICE, message_id=sent.message_id, reply_markup=markup
        )

    assert await bot.delete_message(ALICE, sent.message_id)
    assert emulator.messages(ALICE) == []
    assert emulator.messages(ALICE, include_deleted=True)[0]["deleted"]
    kinds = ["message_edited", "message_deleted"]
    assert [e["type"] for e in drain(events)] == kinds
    assert emulator.messages(ALICE, include_deleted=True)[0]["message_id"] == sent.message_id
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="again", chat_id=ALICE, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)
    emulator.unsubscribe(events)


async def test_text_limits_and_html_errors(emulator: BotAPIEmulator, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    await bot.send_message(ALICE, "x" * 4096, parse_mode=None)
    status, body = await raw(
        emulator,
        "sendMessage",
        json_body={"chat_id": ALICE, "text": "<b></b>", "parse_mode": "HTML"},
    )
    assert status == 400 and body["description"] == "Bad Request: message text is empty"
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ALICE, "<b>unclosed")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ALICE, "<b>bad <i>nesting</b></i>")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div"'):
        await bot.send_message(ALICE, "<div>no</div>")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999, "who?")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "too much data", reply_markup=keyboard(("x", "d" * 65)))
    # Without parse_mode the text is kept literally (and the page gets it escaped).
    await bot.send_message(ALICE, "<b>literal</b>", parse_mode=None)
    record = emulator.last_message(ALICE)
    assert record is not None
    assert record["text"] == "<b>literal</b>" and record["html"] == "&lt;b&gt;literal&lt;/b&gt;"
    assert not emulator.calls("sendMessage")[0].ok


def test_html_parser_entities_use_utf16_offsets() -> None:
    text, entities = parse_html(
        '💰 <b>Bold</b> <a href="https://t.me">link</a> <tg-spoiler>s</tg-spoiler> '
        '<pre><code class="language-python">x</code></pre> &lt;3'
    )
    assert text == "💰 Bold link s x <3"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 4, "url": "https://t.me"},
        {"type": "spoiler", "offset": 13, "length": 1},
        {"type": "pre", "offset": 15, "length": 1, "language": "python"},
    ]


async def test_fail_next_gives_retry_after(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ALICE, "hi")
    assert caught.value.retry_after == 3
    assert "retry after 3" in caught.value.message
    await bot.send_message(ALICE, "hi")  # only the next call failed
    first, second = emulator.calls("sendMessage")
    assert (first.ok, first.error_code, second.ok) == (False, 429, True)
    assert len(emulator.messages(ALICE)) == 1


async def test_blocked_user_gets_403(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.block(ALICE)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "hi")
    emulator.unblock(ALICE)
    await bot.send_message(ALICE, "hi")


async def test_copy_forward_photo_chat_and_member(emulator: BotAPIEmulator, bot: Bot) -> None:
    emulator.add_group_chat(OPERATORS, "Operators", members=[BORIS])
    emulator.add_user(BORIS, "Boris", language_code="ru")
    user_message = await emulator.send_text(ALICE, "my order is late")
    copied = await bot.copy_message(OPERATORS, ALICE, user_message["message_id"])
    forwarded = await bot.forward_message(OPERATORS, ALICE, user_message["message_id"])
    assert forwarded.forward_origin is not None and forwarded.text == "my order is late"
    group = emulator.messages(OPERATORS)
    assert [m["message_id"] for m in group] == [copied.message_id, forwarded.message_id]

    photo = await bot.send_photo(ALICE, BufferedInputFile(b"\x89PNG", "p.png"), caption="<b>c</b>")
    assert photo.photo is not None and photo.caption == "c"
    assert await bot.send_chat_action(ALICE, "typing")

    chat = await bot.get_chat(OPERATORS)
    assert chat.title == "Operators" and chat.type == "supergroup"
    me = await bot.get_chat_member(OPERATORS, 123456)
    assert isinstance(me, ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(OPERATORS, BORIS), ChatMemberMember)
    assert await bot.set_chat_menu_button()

    # An operator replies in the group to the forwarded message.
    reply = await emulator.send_text(
        BORIS, "on it", chat_id=OPERATORS, reply_to_message_id=forwarded.message_id
    )
    updates = await bot.get_updates(offset=reply["update_id"])
    message = updates[0].message
    assert message is not None and message.reply_to_message is not None
    assert message.reply_to_message.message_id == forwarded.message_id


# ---------------------------------------------------------------------------- updates


async def test_get_updates_confirms_by_offset_and_redelivers(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    for text in ("/start ref", "hello", "/balance@giftwallet_bot"):
        await emulator.send_text(ALICE, text)
    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == [
        "/start ref",
        "hello",
        "/balance@giftwallet_bot",
    ]
    start = first[0].message
    assert start is not None and start.entities is not None
    assert (start.entities[0].type, start.entities[0].offset, start.entities[0].length) == (
        "bot_command",
        0,
        6,
    )
    assert first[0].message is not None and first[0].message.from_user is not None
    assert first[0].message.from_user.language_code == "en"

    # Not confirmed: the same updates come again, as after a crash.
    again = await bot.get_updates(timeout=0, limit=2)
    assert [u.update_id for u in again] == [u.update_id for u in first[:2]]
    assert emulator.deliveries(first[0].update_id) == 2
    assert emulator.deliveries(first[2].update_id) == 1

    rest = await bot.get_updates(offset=first[1].update_id + 1, timeout=0)
    assert [u.update_id for u in rest] == [first[2].update_id]
    assert emulator.pending_updates() == 1
    assert await bot.get_updates(offset=first[2].update_id + 1, timeout=0) == []
    assert emulator.pending_updates() == 0


async def test_long_poll_wakes_up_on_a_new_update(emulator: BotAPIEmulator, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    mark = emulator.call_count()
    began = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    call = await emulator.wait_for_call("getUpdates", after=mark)
    assert not call.done  # recorded on arrival, still waiting
    await emulator.send_text(ALICE, "ping")
    updates = await asyncio.wait_for(poll, timeout=5)
    assert [u.message.text for u in updates if u.message] == ["ping"]
    assert loop.time() - began < 5
    assert call.done and call.ok and call.result[0]["message"]["text"] == "ping"


async def test_a_second_poll_terminates_the_first(emulator: BotAPIEmulator, bot: Bot) -> None:
    mark = emulator.call_count()
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await emulator.wait_for_call("getUpdates", after=mark)
    assert await bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, timeout=5)


async def test_webhook_and_drop_pending(emulator: BotAPIEmulator, bot: Bot) -> None:
    await emulator.send_text(ALICE, "before")
    assert await bot.set_webhook("https://example.com/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.com/hook" and info.pending_update_count == 1
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert emulator.pending_updates() == 0
    assert emulator.calls("deleteWebhook")[0].params == {"drop_pending_updates": True}


async def test_raw_update_and_allowed_updates(emulator: BotAPIEmulator, bot: Bot) -> None:
    await emulator.send_raw_update(
        {"message_reaction_count": {"chat": {"id": ALICE, "type": "private"}}}
    )
    sent = await emulator.send_raw_update({"update_id": 5, "my_chat_member": {}})
    assert sent["update_id"] != 5  # ids are always assigned by the server
    status, body = await raw(emulator, "getUpdates")
    assert status == 200 and [list(u)[1] for u in body["result"]] == ["my_chat_member"]
    await emulator.send_text(ALICE, "text")
    updates = await bot.get_updates(allowed_updates=["callback_query"], timeout=0)
    assert updates == [] and emulator.pending_updates() == 0


# ---------------------------------------------------------------------------- queries


async def test_buttons_and_callback_answers(emulator: BotAPIEmulator, bot: Bot) -> None:
    menu = await bot.send_message(ALICE, "Menu", reply_markup=keyboard(("Balance", "m:balance")))
    with pytest.raises(ValueError, match="no button"):
        await emulator.press_button(ALICE, menu.message_id, "m:nope")
    events = emulator.subscribe()
    query_id = await emulator.press_button(ALICE, menu.message_id, "m:balance")
    [update] = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query is not None and query.id == query_id and query.data == "m:balance"
    assert query.message is not None and query.message.message_id == menu.message_id

    mark = emulator.call_count()
    assert await bot.answer_callback_query(query_id, text="Done", show_alert=True)
    answer = await emulator.wait_for_call(
        "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id, after=mark
    )
    assert answer.params["show_alert"] is True
    assert emulator.callback_query(query_id) == {
        "id": query_id,
        "user_id": ALICE,
        "chat_id": ALICE,
        "message_id": menu.message_id,
        "data": "m:balance",
        "answered": True,
        "text": "Done",
        "show_alert": True,
        "url": None,
        "update_id": update.update_id,
    }
    [event] = drain(events)
    assert (event["type"], event["text"], event["show_alert"]) == ("callback_answer", "Done", True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)

    forged = await emulator.send_callback(ALICE, "order:999:pay", 777)
    [update] = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert update.callback_query is not None and update.callback_query.id == forged
    assert update.callback_query.data == "order:999:pay"


async def test_inline_query_answer_is_recorded(emulator: BotAPIEmulator, bot: Bot) -> None:
    events = emulator.subscribe()
    query_id = await emulator.send_inline_query(ALICE, "gift")
    [update] = await bot.get_updates(timeout=0)
    assert update.inline_query is not None and update.inline_query.query == "gift"
    result = InlineQueryResultArticle(
        id="1", title="Gift", input_message_content=InputTextMessageContent(message_text="🎁")
    )
    assert await bot.answer_inline_query(query_id, [result], cache_time=0, is_personal=True)
    recorded = emulator.inline_query(query_id)
    assert recorded is not None and recorded["answered"] and recorded["is_personal"]
    assert recorded["results"][0]["title"] == "Gift"
    [event] = drain(events)
    assert event["type"] == "inline_results" and event["chat_id"] == ALICE
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_inline_query(query_id, [result])


async def test_commands_are_stored_per_scope_and_language(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    events = emulator.subscribe()
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Начать")], language_code="ru"
    )
    await bot.set_my_commands(
        [BotCommand(command="admin", description="Admin")],
        scope=BotCommandScopeChat(chat_id=ALICE),
    )
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert emulator.commands({"type": "chat", "chat_id": ALICE}) == [
        {"command": "admin", "description": "Admin"}
    ]
    assert [e["chat_id"] for e in drain(events)] == [None, None, ALICE]
    assert await bot.delete_my_commands(language_code="ru")
    assert await bot.get_my_commands(language_code="ru") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


# ---------------------------------------------------------------------------- payments and files


async def send_stars_invoice(bot: Bot, amount: int = 50) -> Message:
    return await bot.send_invoice(
        ALICE,
        title="Certificate",
        description="A gift certificate",
        payload="cert:42",
        currency="XTR",
        prices=[LabeledPrice(label="Certificate", amount=amount)],
    )


async def test_stars_payment_flow_with_a_dispatcher(emulator: BotAPIEmulator, bot: Bot) -> None:
    dispatcher = Dispatcher()
    credited: list[str] = []

    @dispatcher.pre_checkout_query()
    async def checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=query.invoice_payload == "cert:42", error_message="Unknown item")

    @dispatcher.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        credited.append(message.successful_payment.telegram_payment_charge_id)

    invoice = await send_stars_invoice(bot)
    assert invoice.invoice is not None and invoice.invoice.total_amount == 50
    record = emulator.last_message(ALICE)
    assert record is not None and record["invoice"]["payload"] == "cert:42"
    assert record["reply_markup"]["inline_keyboard"][0][0]["pay"] is True

    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            polling_timeout=1,
            handle_as_tasks=False,
            handle_signals=False,
            close_bot_session=False,
        )
    )
    try:
        emulator.duplicate_next_payment()
        outcome = await emulator.pay_invoice(ALICE, invoice.message_id)
        assert outcome.ok and outcome.status == "paid"
        charge = outcome.telegram_payment_charge_id
        assert charge is not None and charge.startswith("stx")
        # Telegram re-delivered the payment: two updates, one charge id. Handled once the
        # poller confirms them (sequential handling, so the handlers are done by then).
        last = max(m["update_id"] or 0 for m in emulator.messages(ALICE))
        await emulator.wait_for_call("getUpdates", lambda c: c.params.get("offset", 0) > last)
    finally:
        await dispatcher.stop_polling()
        await polling
    assert credited == [charge, charge]
    payment_messages = [m for m in emulator.messages(ALICE) if m["kind"] == "successful_payment"]
    assert len(payment_messages) == 2
    assert payment_messages[0]["successful_payment"] == {
        "currency": "XTR",
        "total_amount": 50,
        "invoice_payload": "cert:42",
        "telegram_payment_charge_id": charge,
        "provider_payment_charge_id": outcome.provider_payment_charge_id,
    }
    [payment] = emulator.payments()
    assert payment["status"] == "paid" and payment["message_id"] == outcome.message_id

    # What the playground keeps across a restart: the next process knows this charge.
    restored = BotAPIEmulator(token=emulator.token)
    restored.import_state(json.loads(json.dumps(emulator.export_state())))
    assert restored.payments() == emulator.payments()
    assert restored.messages(ALICE) == emulator.messages(ALICE)
    assert restored.export_state() == emulator.export_state()
    with pytest.raises(ValueError):
        restored.import_state({"version": 1, "users": "not a list"})


async def test_declined_expired_and_refunded_payments(emulator: BotAPIEmulator, bot: Bot) -> None:
    invoice = await send_stars_invoice(bot)

    # Declined by the bot.
    paying = asyncio.create_task(emulator.pay_invoice(ALICE, invoice.message_id))
    [update] = await bot.get_updates(timeout=5)
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(
        update.pre_checkout_query.id, ok=False, error_message="Sold out"
    )
    outcome = await paying
    assert (outcome.ok, outcome.status, outcome.error_message) == (False, "declined", "Sold out")

    # Not answered in time: a late answer is "too old".
    outcome = await emulator.pay_invoice(ALICE, invoice.message_id, answer_timeout=0.05)
    assert outcome.status == "expired"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(outcome.pre_checkout_query_id, ok=True)

    [expired] = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    offset = expired.update_id + 1

    # Paid, then refunded by the bot and reported by Telegram.
    paying = asyncio.create_task(emulator.pay_invoice(ALICE, invoice.message_id))
    [update] = await bot.get_updates(offset=offset, timeout=5)  # waits for the query
    offset = update.update_id + 1
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    outcome = await paying
    charge = outcome.telegram_payment_charge_id
    assert outcome.ok and charge is not None
    assert await bot.refund_star_payment(ALICE, charge)
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(ALICE, charge)
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(ALICE, "stxUnknown")
    refund = await emulator.refund_payment_update(ALICE, charge)
    updates = await bot.get_updates(offset=offset, timeout=5)
    refunded = [u.message.refunded_payment for u in updates if u.message]
    assert refunded[-1] is not None and refunded[-1].telegram_payment_charge_id == charge
    assert refund["kind"] == "refunded_payment"
    statuses = sorted(p["status"] for p in emulator.payments())
    assert statuses == ["declined", "expired", "refunded"]


async def test_the_stars_statement_and_balance_with_an_affiliate(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    """As the Bot API gives them: a referred buyer's line is what reached the bot, with the
    affiliate's share beside it, in whole Stars and billionths; refunds and withdrawals go out."""
    emulator.refer(ALICE, affiliate_id=BORIS, commission_per_mille=105)
    invoice = await send_stars_invoice(bot)  # 50 Stars
    paying = asyncio.create_task(emulator.pay_invoice(ALICE, invoice.message_id))
    [update] = await bot.get_updates(timeout=5)
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    charge = (await paying).telegram_payment_charge_id
    assert charge is not None

    balance = await bot.get_my_star_balance()
    assert (balance.amount, balance.nanostar_amount) == (44, 750_000_000)  # 50 less 5.25
    [line] = (await bot.get_star_transactions()).transactions
    assert (line.id, line.amount, line.nanostar_amount) == (charge, 44, 750_000_000)
    assert isinstance(line.source, TransactionPartnerUser) and line.receiver is None
    affiliate = line.source.affiliate
    assert affiliate is not None and affiliate.affiliate_user is not None
    assert (affiliate.affiliate_user.id, affiliate.commission_per_mille) == (BORIS, 105)
    assert (affiliate.amount, affiliate.nanostar_amount) == (5, 250_000_000)

    emulator.withdraw_stars(40)
    with pytest.raises(ValueError, match="too small"):
        emulator.withdraw_stars(5)
    # A dispute Telegram settles takes the Stars back even when the balance goes below zero.
    await emulator.refund_payment_update(ALICE, charge)
    lines = (await bot.get_star_transactions(offset=1)).transactions  # past the charge
    [withdrawal] = [line for line in lines if line.receiver and line.receiver.type == "fragment"]
    [refund] = [line for line in lines if line.receiver and line.receiver.type == "user"]
    assert isinstance(withdrawal.receiver, TransactionPartnerFragment)
    assert isinstance(refund.receiver, TransactionPartnerUser) and refund.amount == 44
    assert refund.receiver.affiliate is not None and refund.receiver.affiliate.amount == -5
    balance = await bot.get_my_star_balance()  # 44.75 - 40 - 44.75
    assert (balance.amount, balance.nanostar_amount) == (-40, None)

    restored = BotAPIEmulator(token=emulator.token)
    restored.import_state(json.loads(json.dumps(emulator.export_state())))
    assert restored.star_balance() == emulator.star_balance() == -40 * 10**9


async def test_invoice_validation_and_links(emulator: BotAPIEmulator, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="INVOICE_PAYLOAD_INVALID"):
        await bot.send_invoice(
            ALICE, "t", "d", "p" * 129, currency="XTR", prices=[LabeledPrice(label="x", amount=1)]
        )
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await bot.send_invoice(
            ALICE,
            "t",
            "d",
            "p",
            currency="XTR",
            prices=[LabeledPrice(label="a", amount=1), LabeledPrice(label="b", amount=2)],
        )
    link = await bot.create_invoice_link(
        "t", "d", "cert:7", currency="XTR", prices=[LabeledPrice(label="x", amount=5)]
    )
    assert link.startswith("https://t.me/$")
    paying = asyncio.create_task(emulator.pay_invoice_link(ALICE, link))
    [update] = await bot.get_updates(timeout=5)
    assert update.pre_checkout_query is not None
    assert update.pre_checkout_query.invoice_payload == "cert:7"
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    assert (await paying).ok


async def test_document_upload_get_file_and_download(emulator: BotAPIEmulator, bot: Bot) -> None:
    content = b"date,amount\n2024-01-01,10.00\n"
    sent = await bot.send_document(
        ALICE, BufferedInputFile(content, "statement.csv"), caption="Your <b>statement</b>"
    )
    assert sent.document is not None and sent.document.file_name == "statement.csv"
    assert sent.document.file_size == len(content) and sent.caption == "Your statement"
    record = emulator.last_message(ALICE)
    assert record is not None and record["kind"] == "document"
    assert record["caption_html"] == "Your <b>statement</b>"
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path == record["document"]["file_path"]
    downloaded = await bot.download(file)
    assert isinstance(downloaded, io.BytesIO) and downloaded.getvalue() == content
    # Re-sending by file_id reuses the stored file.
    again = await bot.send_document(ALICE, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(ALICE, "no-such-file-id")


# ---------------------------------------------------------------------------- recording


async def test_wait_for_call_honours_after_and_times_out(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    await bot.send_message(ALICE, "one")
    mark = emulator.call_count()
    waiter = asyncio.create_task(emulator.wait_for_call("sendMessage", after=mark))
    await bot.send_message(ALICE, "two")
    call: Call = await waiter
    assert call.index == mark and call.params["text"] == "two" and call.result["text"] == "two"
    assert isinstance(call.time, float)
    with pytest.raises(TimeoutError, match="no matching sendMessage"):
        await emulator.wait_for_call("sendMessage", after=emulator.call_count(), timeout=0.05)


# ---------------------------------------------------------------------------- page helpers


async def test_page_helpers_download_commands_and_reply_keyboard(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

    sent = await bot.send_document(ALICE, BufferedInputFile(b"a,b\n", "report.csv"))
    assert sent.document is not None
    assert emulator.download(sent.document.file_id) == (b"a,b\n", "text/csv", "report.csv")
    assert emulator.download("nope") is None

    # The most specific command list wins: the chat's own, then the language's, then default.
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Начать")], language_code="ru"
    )
    assert emulator.effective_commands(ALICE, "en")[0]["description"] == "Start"
    assert emulator.effective_commands(ALICE, "ru")[0]["description"] == "Начать"
    await bot.set_my_commands(
        [BotCommand(command="help", description="Help")],
        scope=BotCommandScopeChat(chat_id=ALICE),
    )
    assert emulator.effective_commands(ALICE, "ru")[0]["command"] == "help"

    assert emulator.reply_keyboard(ALICE) is None
    markup = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Yes"), KeyboardButton(text="No")]])
    await bot.send_message(ALICE, "Sure?", reply_markup=markup)
    await bot.send_message(ALICE, "Inline", reply_markup=keyboard(("A", "a")))
    shown = emulator.reply_keyboard(ALICE)
    assert shown is not None and [b["text"] for b in shown["keyboard"][0]] == ["Yes", "No"]
    await bot.send_message(ALICE, "Done", reply_markup=ReplyKeyboardRemove())
    assert emulator.reply_keyboard(ALICE) is None


async def test_inline_result_is_posted_via_the_bot(emulator: BotAPIEmulator, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.inline_query()
    async def answer(query: Any) -> None:
        await query.answer(
            [
                InlineQueryResultArticle(
                    id="card",
                    title="Card",
                    input_message_content=InputTextMessageContent(message_text="<b>Hi</b> there"),
                )
            ],
            is_personal=True,
        )

    query_id = await emulator.send_inline_query(ALICE, "x")
    updates = await bot.get_updates(timeout=0)
    await dispatcher.feed_update(bot, updates[-1])
    with pytest.raises(ValueError, match="no answered inline query"):
        await emulator.send_inline_result(BORIS, ALICE, query_id, "card")
    record = await emulator.send_inline_result(ALICE, ALICE, query_id, "card")
    assert record["via_bot"] == "giftwallet_bot"
    assert record["text"] == "Hi there"
    assert record["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    with pytest.raises(ValueError, match="no text"):
        await emulator.send_inline_result(ALICE, ALICE, query_id, "missing")


async def test_webhook_delivery_is_fifo_per_queue_with_retries_round_robin(
    emulator: BotAPIEmulator, bot: Bot
) -> None:
    """Telegram's delivery: one post in flight per queue, the next only after a 2xx, a failure
    retried with backoff, the secret in a header, the posts spread over the replicas."""
    arrivals: list[tuple[int, int]] = []  # (port, update_id)
    in_flight: dict[str, int] = {}
    overlap: list[str] = []
    refused_once: set[int] = set()

    async def replica(request: web.Request) -> web.Response:
        update = await request.json()
        queue = "chat" if "message" in update else "callbacks"
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cret":
            return web.Response(status=401)
        in_flight[queue] = in_flight.get(queue, 0) + 1
        if in_flight[queue] > 1:
            overlap.append(queue)
        try:
            await asyncio.sleep(0.02)
            if update["update_id"] % 3 == 0 and update["update_id"] not in refused_once:
                refused_once.add(update["update_id"])
                return web.Response(status=503)
            arrivals.append((request.url.port or 0, update["update_id"]))
            return web.Response(status=200)
        finally:
            in_flight[queue] -= 1

    runners = []
    targets = []
    for _ in range(2):
        app = web.Application()
        app.router.add_post("/hook", replica)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        targets.append(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
    try:
        emulator.webhook_first_retry = 0.05
        emulator.balance_webhook(targets)
        emulator.add_user(7, "Vera")
        sent = await bot.send_message(
            7,
            "menu",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Tap", callback_data="tap")]]
            ),
        )
        await bot.set_webhook("https://bot.example/hook", secret_token="s3cret")
        ids = []
        for n in range(6):
            ids.append((await emulator.send_text(7, f"m{n}"))["update_id"])
            await emulator.press_button(7, sent.message_id, "tap")
        await emulator.wait_until_confirmed(limit=10)
    finally:
        for runner in runners:
            await runner.cleanup()
    assert not overlap, "a queue never has two posts in flight"
    messages = [u for _, u in arrivals if u in ids]
    assert messages == ids, "a chat's messages arrive in order"
    assert refused_once and all(emulator.deliveries(u) == 2 for u in refused_once)
    assert {port for port, _ in arrivals} == {int(t.split(":")[2].split("/")[0]) for t in targets}
    outcomes = {p.outcome for p in emulator.posts()}
    assert outcomes == {200, 503}
    assert emulator.webhook()["url"] == "https://bot.example/hook"


def test_a_date_time_entity_is_read_as_telegram_reads_it() -> None:
    text, entities = parse_html('Next: <tg-time unix="1766275200" format="D">Dec 21</tg-time>.')
    assert text == "Next: Dec 21."
    assert entities == [
        {
            "type": "date_time",
            "offset": 6,
            "length": 6,
            "unix_time": 1766275200,
            "date_time_format": "D",
        }
    ]
    for bad in ('<tg-time unix="soon">a</tg-time>', '<tg-time unix="1" format="Dd">a</tg-time>'):
        with pytest.raises(ApiError):
            parse_html(bad)
