"""Command line: ``python -m bot [run|migrate|copy-db|playground]``."""

from __future__ import annotations

import argparse
import asyncio
import errno
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
    copy_db = commands.add_parser(
        "copy-db", help="copy the SQLite database into an empty PostgreSQL database"
    )
    copy_db.add_argument("--to", required=True, help="postgresql://user:pass@host:5432/db")
    copy_db.add_argument(
        "--from", dest="source", default=None, help="sqlite:///path (default: DATABASE_URL)"
    )
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


async def _playground(settings: Settings, args: argparse.Namespace) -> int:
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
    try:
        await playground.start()
    except OSError as exc:
        await playground.stop()
        if exc.errno == errno.EADDRINUSE:
            print(
                f"error: --port {args.port}: the port is already in use on {args.host};"
                ' choose another, e.g. make run PLAYGROUND_ARGS="--port 9000"',
                file=sys.stderr,
            )
        else:
            print(f"error: --host {args.host} --port {args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        print(f"Giftwallet playground: open {playground.url}/ in a browser", flush=True)
        print(
            "To run on Telegram instead, put a token from @BotFather in .env as BOT_TOKEN=...",
            flush=True,
        )
        await stop.wait()
    finally:
        await playground.stop()
    return 0


async def _migrate(settings: Settings) -> None:
    from bot.storage.database import open_database

    db = open_database(settings.database)
    await db.connect()
    try:
        applied = await db.migrate()
        print(f"migrations applied: {applied or 'none, already up to date'}")
    finally:
        await db.close()


async def _copy_db(settings: Settings, source_url: str, target_url: str) -> int:
    from bot.clock import SystemClock
    from bot.services.ledger import LedgerService
    from bot.storage.copy import copy_database
    from bot.storage.database import open_database, redact
    from bot.storage.postgres import PostgresDatabase
    from bot.storage.sqlite import SQLiteDatabase

    source = open_database(source_url)
    target = open_database(target_url)
    if not isinstance(source, SQLiteDatabase):
        print("error: --from must be a sqlite:/// URL", file=sys.stderr)
        return 2
    if not isinstance(target, PostgresDatabase):
        print("error: --to must be a postgresql:// URL", file=sys.stderr)
        return 2
    if not source.path.exists():
        print(f"error: --from: no database at {source.path}", file=sys.stderr)
        return 2
    await source.connect()
    try:
        await target.connect()
        try:
            await target.migrate()
            counts = await copy_database(source, target)
            problems = await LedgerService(
                target, settings.currency, SystemClock()
            ).check_invariants()
        finally:
            await target.close()
    finally:
        await source.close()
    print(f"copied {redact(source_url)} -> {redact(target_url)}")
    for count in counts:
        mark = "ok" if count.source == count.target else "MISMATCH"
        print(f"  {count.table:<10} {count.source:>10} rows -> {count.target:>10}  {mark}")
    print(f"ledger invariants on the target: {'ok' if not problems else 'VIOLATED'}")
    for problem in problems:
        print(f"  {problem}")
    if problems or any(c.source != c.target for c in counts):
        return 1
    return 0


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

    from bot.storage.copy import CopyRefused
    from bot.storage.errors import StorageUnavailable

    try:
        if args.command == "playground":
            return asyncio.run(_playground(settings, args))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "copy-db":
            return asyncio.run(_copy_db(settings, args.source or settings.database, args.to))
        else:
            asyncio.run(_run(settings))
    except TelegramUnauthorizedError:
        print(
            "error: the Bot API rejected BOT_TOKEN (Unauthorized): check it with @BotFather",
            file=sys.stderr,
        )
        return 1
    except CopyRefused as exc:
        print(f"error: copy-db refused: {exc}", file=sys.stderr)
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
