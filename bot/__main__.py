"""Command line: ``python -m bot [run|migrate|playground]``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from contextlib import suppress
from pathlib import Path

from bot.config import Settings, SettingsError, load_settings
from bot.log_setup import setup_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Giftwallet Telegram bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="long polling on Telegram (the default)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    playground = commands.add_parser(
        "playground", help="try the bot in a browser, with a local Telegram emulator"
    )
    playground.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    playground.add_argument("--port", type=int, default=8080, help="port of the page (8080)")
    playground.add_argument(
        "--data-dir", type=Path, default=None, help="its own data (default DATA_DIR/playground)"
    )
    return parser


async def _run(settings: Settings) -> None:
    from bot.app import Application

    app = Application(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, app.request_stop)
    await app.run_polling()


async def _playground(settings: Settings, args: argparse.Namespace) -> None:
    from bot.playground.server import Playground

    playground = Playground(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir or settings.data_dir / "playground",
        base_settings=settings,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await playground.start()
    try:
        print(f"Giftwallet playground: open {playground.url}/ in a browser", flush=True)
        print(
            "To run on Telegram instead, put a token from @BotFather in .env as BOT_TOKEN=...",
            flush=True,
        )
        await stop.wait()
    finally:
        await playground.stop()


async def _migrate(settings: Settings) -> None:
    from bot.storage.database import open_database

    db = open_database(settings.database)
    await db.connect()
    try:
        applied = await db.migrate()
        print(f"migrations applied: {applied or 'none, already up to date'}")
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "playground":
            # The playground never contacts Telegram, so it needs no token of the user's.
            from bot.playground.server import PLAYGROUND_TOKEN

            settings = load_settings(bot_token=PLAYGROUND_TOKEN)
        else:
            settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, [settings.bot_token.get_secret_value()])
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    from bot.storage.errors import StorageUnavailable

    try:
        if args.command == "playground":
            asyncio.run(_playground(settings, args))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
        else:
            asyncio.run(_run(settings))
    except TelegramUnauthorizedError:
        print(
            "error: the Bot API rejected BOT_TOKEN (Unauthorized): check it with @BotFather",
            file=sys.stderr,
        )
        return 1
    except StorageUnavailable as exc:
        setting = "DATABASE_URL" if settings.database_url else "DATA_DIR"
        print(f"error: {setting}: the database cannot be used: {exc}", file=sys.stderr)
        return 1
    except TelegramNetworkError as exc:
        server = settings.telegram_api_url or "https://api.telegram.org"
        print(f"error: cannot reach the Bot API at {server}: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
