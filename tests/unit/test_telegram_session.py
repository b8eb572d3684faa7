"""The lean Bot API session sends what aiogram's form would, and raises what aiogram raises."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendInvoice,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from aiohttp import web

from bot.playground.delivery import free_port
from bot.runtime.telegram_session import request_body, seal, telegram_session, wire

TOKEN = "42:TEST"


def markup(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=f"m:{label}")] for label in labels
        ]
    )


METHODS: list[TelegramMethod[Any]] = [
    SendMessage(chat_id=7, text="<b>Balance</b>", reply_markup=markup("a", "b")),
    SendMessage(
        chat_id=7,
        text="plain",
        parse_mode=None,
        disable_notification=False,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_parameters=ReplyParameters(message_id=3),
    ),
    EditMessageText(chat_id=7, message_id=11, text="Edited", reply_markup=markup("c")),
    AnswerCallbackQuery(callback_query_id="q1", text="Done", show_alert=True, cache_time=0),
    SendInvoice(
        chat_id=7,
        title="Certificate",
        description="500",
        payload="buy:1",
        currency="XTR",
        prices=[LabeledPrice(label="Certificate", amount=500)],
    ),
]


@pytest.mark.parametrize("method", METHODS, ids=lambda method: type(method).__name__)
def test_the_json_body_carries_what_aiograms_form_carries(method: TelegramMethod[Any]) -> None:
    bot = Bot(TOKEN, default=DefaultBotProperties(parse_mode="HTML"))
    form = AiohttpSession().build_form_data(bot, method)
    sent_as_form = {field[0]["name"]: field[2] for field in form._fields}
    sent_as_json = json.loads(request_body(method, bot))

    assert sent_as_json.keys() == sent_as_form.keys()
    for key, value in sent_as_json.items():
        expected = sent_as_form[key]
        assert value == (expected if isinstance(value, str) else json.loads(expected)), key


def test_a_sealed_keyboard_is_turned_into_wire_form_once() -> None:
    bot = Bot(TOKEN)
    sealed, loose = seal(markup("x", "y")), markup("x", "y")

    assert wire(sealed, bot) is wire(sealed, bot)
    assert wire(loose, bot) is not wire(loose, bot)
    assert wire(sealed, bot) == wire(loose, bot)


class FakeTelegram:
    """Answers each call with the next canned answer and records what it received."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.received: list[tuple[str, str]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append((request.content_type, body.decode(errors="replace")))
        status, answer = self.answers.pop(0)
        return web.json_response(answer, status=status)


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    fake = FakeTelegram()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    session = telegram_session(f"http://127.0.0.1:{port}")
    bot = Bot(TOKEN, session=session)
    try:
        yield fake, bot
    finally:
        await session.close()
        await runner.cleanup()


MESSAGE = {
    "message_id": 5,
    "date": 1_700_000_000,
    "chat": {"id": 7, "type": "private"},
    "text": "hi",
}


async def test_a_call_goes_out_as_json_and_comes_back_as_a_model(
    telegram: tuple[FakeTelegram, Bot],
) -> None:
    fake, bot = telegram
    fake.answers.append((200, {"ok": True, "result": MESSAGE}))

    sent = await bot.send_message(7, "hi", reply_markup=seal(markup("a")))

    assert isinstance(sent, Message) and sent.message_id == 5 and sent.text == "hi"
    content_type, body = fake.received[0]
    assert content_type == "application/json"
    assert json.loads(body)["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "m:a"


async def test_refusals_raise_what_aiogram_raises(telegram: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = telegram
    not_modified = "Bad Request: message is not modified"
    fake.answers.append((400, {"ok": False, "error_code": 400, "description": not_modified}))
    fake.answers.append(
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            },
        )
    )

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(text="same", chat_id=7, message_id=5)
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(7, "again")
    assert flood.value.retry_after == 3


async def test_a_file_still_goes_as_a_multipart_form(telegram: tuple[FakeTelegram, Bot]) -> None:
    fake, bot = telegram
    fake.answers.append((200, {"ok": True, "result": {**MESSAGE, "text": None}}))

    await bot.send_document(7, BufferedInputFile(b"date,amount\n", filename="history.csv"))

    content_type, body = fake.received[0]
    assert content_type == "multipart/form-data"
    assert "history.csv" in body
