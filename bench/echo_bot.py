"""The throughput baseline: a bare aiogram echo bot, ``python -m bench.echo_bot``.

It answers what Giftwallet answers with the same Bot API calls: a message gets one message, a
button tap edits the message it sits on and then answers the callback query. aiogram's default
polling (handlers as tasks), no storage, no middlewares: the fastest an aiogram bot gets.
"""

from __future__ import annotations

import asyncio
import itertools
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message


async def echo(message: Message) -> None:
    await message.answer(message.text or "…", reply_markup=_buttons(message.text or ""))


_taps = itertools.count(1)


async def tapped(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        # Numbered, so a repeated tap still changes the text (Telegram refuses an edit to the
        # same text and buttons).
        text = f"{query.data} #{next(_taps)}"
        await query.message.edit_text(text, reply_markup=_buttons(text))
    await query.answer()


def _buttons(text: str) -> InlineKeyboardMarkup:
    """The buttons the load generator taps, like Giftwallet's menu (built per answer, as a
    plain aiogram bot would)."""
    names = ("m:balance", "m:home", "m:shop", "m:buy", "m:orders", "m:cashback")
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=name, callback_data=name)] for name in names]
    )


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.message.register(echo)
    dispatcher.callback_query.register(tapped)
    await dispatcher.start_polling(bot, polling_timeout=1, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
