"""A minimal "credit" bot for the crash benchmark: ``python -m bench.crash_bot default|inbox``.

Each message is a payment to credit: the handler does some awaited work (as a real one would,
talking to a database or the Bot API), then records the message id in SQLite. Recording is
idempotent, so a re-delivered update is harmless; only an update that never comes back is lost.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bench.inbox_runner import start_inbox_polling

WORK_SECONDS = 0.05


def main() -> None:
    mode = sys.argv[1]
    ledger = sqlite3.connect(os.environ["CRASH_DB"], isolation_level=None)
    ledger.execute("PRAGMA journal_mode=WAL")
    ledger.execute(
        "CREATE TABLE IF NOT EXISTS credited (chat_id INTEGER, message_id INTEGER,"
        " PRIMARY KEY (chat_id, message_id))"
    )

    async def credit(message: Message) -> None:
        await asyncio.sleep(WORK_SECONDS)
        ledger.execute(
            "INSERT OR IGNORE INTO credited VALUES (?, ?)", (message.chat.id, message.message_id)
        )

    async def run() -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["API_URL"]))
        bot = Bot(os.environ["BOT_TOKEN"], session=session)
        dispatcher = Dispatcher()
        dispatcher.message.register(credit)
        if mode == "default":
            await dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False)
        else:
            inbox_file = os.environ["CRASH_DB"] + ".inbox"
            await start_inbox_polling(dispatcher, bot, Path(inbox_file))
            await asyncio.Event().wait()  # until SIGKILL

    asyncio.run(run())


if __name__ == "__main__":
    main()
