"""The throughput baseline: the aiogram echo bot anyone would write, ``python -m bench.echo_bot``.

A message is answered with its text; a button tap edits the message it sits on and answers the
callback query: the same Bot API calls Giftwallet makes for them. Plain text, no keyboards to
build, aiogram's defaults (polling with handlers as tasks), no storage, no middlewares: the
bot a developer would pick instead, and the fastest an aiogram bot gets.
"""

from __future__ import annotations

import asyncio
import itertools
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message


async def echo(message: Message) -> None:
    await message.answer(message.text or "…")


_taps = itertools.count(1)


async def tapped(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        # Numbered, so a repeated tap still changes the text (Telegram refuses an edit to the
        # same text).
        await query.message.edit_text(f"{query.data} #{next(_taps)}")
    await query.answer()


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.message.register(echo)
    dispatcher.callback_query.register(tapped)
    await dispatcher.start_polling(bot, polling_timeout=1, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())
