"""Any aiogram dispatcher behind Giftwallet's inbox poller, on a SQLite file of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiogram import Bot, Dispatcher

from bot.domain.clock import SystemClock
from bot.runtime.inbox import Inbox
from bot.runtime.polling import InboxPoller
from bot.storage.database import open_database


async def start_inbox_polling(
    dispatcher: Dispatcher, bot: Bot, database: Path
) -> Callable[[], Awaitable[None]]:
    """Start polling into the inbox; returns a function that stops it cleanly."""
    db = open_database(f"sqlite:///{database}")
    await db.connect()
    await db.migrate()
    inbox = Inbox(db, dispatcher, bot, SystemClock())
    await inbox.start()
    poller = InboxPoller(bot, inbox, polling_timeout=1)
    task = asyncio.create_task(poller.run())

    async def stop() -> None:
        poller.stop()
        await task
        await inbox.stop(grace=3)
        await db.close()

    return stop
