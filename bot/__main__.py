"""Command line: ``python -m bot [run|migrate|playground]``."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from contextlib import suppress

from bot.config import Settings, SettingsError, load_settings
from bot.log_setup import setup_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Giftwallet Telegram bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="long polling on Telegram (the default)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    return parser


async def _run(settings: Settings) -> None:
    from bot.app import Application

    app = Application(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, app.request_stop)
    await app.run_polling()


async def _migrate(settings: Settings) -> None:
    from bot.storage.database import Database

    db = Database(settings.database_path)
    await db.connect()
    try:
        applied = await db.migrate()
        print(f"migrations applied: {applied or 'none, already up to date'}")
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, [settings.bot_token.get_secret_value()])
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
    else:
        asyncio.run(_run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
