"""The throughput baseline: the aiogram echo bot anyone would write, ``python -m bench.echo_bot``.

A message is answered with its text; a button tap edits the message it sits on and answers the
callback query: the same Bot API calls Giftwallet makes for them. Plain text, no keyboards to
build, aiogram's defaults (polling with handlers as tasks), no storage, no middlewares: the
bot a developer would pick instead, and the fastest an aiogram bot gets.

With ``ECHO_WEBHOOK_PORT`` set it serves a webhook instead, as aiogram's documentation sets one
up (``SimpleRequestHandler`` on aiohttp: each post answered at once, handled in the background).
"""

from __future__ import annotations

import asyncio
import itertools
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web


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
    if port := os.environ.get("ECHO_WEBHOOK_PORT"):
        await serve_webhook(dispatcher, bot, int(port))
    else:
        await dispatcher.start_polling(bot, polling_timeout=1, handle_signals=True)


async def serve_webhook(dispatcher: Dispatcher, bot: Bot, port: int) -> None:
    """Until the process is stopped (SIGTERM ends it: there is nothing to keep)."""
    secret = os.environ["WEBHOOK_SECRET"]
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=secret).register(app, path="/hook")
    setup_application(app, dispatcher, bot=bot)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await bot.set_webhook(os.environ["WEBHOOK_URL"], secret_token=secret)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
