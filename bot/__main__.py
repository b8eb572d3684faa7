"""Command line: ``python -m bot [run|webhook|migrate|inbox|copy-db|backup|restore|playground]``."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import logging
import signal
import sys
from collections.abc import Coroutine
from contextlib import suppress
from pathlib import Path
from typing import Any

from bot.config import Settings, SettingsError, load_settings
from bot.log_setup import setup_logging

# Commands that never talk to Telegram: they need no token, and a missing or mistyped one in .env
# does not stop them. This placeholder is shaped like a token and goes nowhere.
OFFLINE_COMMANDS = frozenset({"migrate", "inbox", "copy-db", "backup", "restore"})
OFFLINE_TOKEN = "100000:offline-commands-never-send-this-token"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Giftwallet Telegram bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="long polling on Telegram (the default)")
    commands.add_parser(
        "webhook", help="serve Telegram's webhook (WEBHOOK_URL, WEBHOOK_SECRET); replicas welcome"
    )
    commands.add_parser("migrate", help="apply database migrations and exit")
    inbox = commands.add_parser("inbox", help="list parked updates, or put one back")
    inbox.add_argument("--retry", type=int, metavar="UPDATE_ID", help="put a parked update back")
    copy_db = commands.add_parser(
        "copy-db", help="copy the SQLite database into an empty PostgreSQL database"
    )
    copy_db.add_argument("--to", required=True, help="postgresql://user:pass@host:5432/db")
    copy_db.add_argument(
        "--from", dest="source", default=None, help="sqlite:///path (default: DATABASE_URL)"
    )
    backup = commands.add_parser(
        "backup", help="an online copy of the SQLite database, checked (the bot may run)"
    )
    backup.add_argument("--to", required=True, type=Path, help="the new backup file")
    restore = commands.add_parser(
        "restore", help="a backup into an empty data directory (DATA_DIR), checked"
    )
    restore.add_argument("--from", dest="source", required=True, type=Path, help="a backup file")
    playground = commands.add_parser(
        "playground", help="try the bot in a browser, with a local Telegram emulator"
    )
    playground.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    playground.add_argument("--port", type=int, default=8080, help="port of the page (8080)")
    playground.add_argument(
        "--data-dir", type=Path, default=None, help="its own data (default DATA_DIR/playground)"
    )
    playground.add_argument(
        "--replicas",
        type=int,
        default=0,
        metavar="N",
        help="start on webhooks with N replicas (default 0: polling); the page can switch",
    )
    playground.add_argument(
        "--database-url", default=None, help="PostgreSQL for several replicas (not .env's)"
    )
    playground.add_argument("--redis-url", default=None, help="Redis for several replicas")
    return parser


async def _run(settings: Settings, *, webhook: bool = False) -> None:
    from bot.app import Application

    app = Application(settings)
    # aiogram's hundreds of models and their schemas live as long as the process: moved out of
    # the collector's reach, a full collection no longer walks them (Update parsing went from
    # about 100 to 63 us on a heap like this, where collections ran inside it).
    gc.collect()
    gc.freeze()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, app.request_stop)
    await (app.run_webhook() if webhook else app.run_polling())


async def _playground(settings: Settings, args: argparse.Namespace) -> int:
    from bot.playground.delivery import ModeRefused
    from bot.playground.server import LOOPBACK, Playground
    from bot.playground.settings import NOT_FROM_ENV

    data_dir = args.data_dir or settings.data_dir / "playground"
    try:
        playground = Playground(
            host=args.host,
            port=args.port,
            data_dir=data_dir,
            base_settings=settings,
            replicas=args.replicas,
            database_url=args.database_url,
            redis_url=args.redis_url,
        )
    except ModeRefused as exc:
        print(f"error: --replicas {args.replicas}: {exc}", file=sys.stderr)
        return 2
    shaped = sorted(name.upper() for name in settings.model_fields_set - NOT_FROM_ENV)
    where = (
        "the database of --database-url"
        if args.database_url
        else f"its own SQLite in {data_dir / 'giftwallet.sqlite3'}"
    )
    print(
        f"Giftwallet playground: using {where}; DATABASE_URL and BOT_TOKEN are ignored here",
        flush=True,
    )
    print(
        f"  shop settings from .env: {', '.join(shaped)}"
        if shaped
        else "  shop settings: the defaults (.env sets none; see .env.example)",
        flush=True,
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
        if args.host not in LOOPBACK:
            print(
                f"warning: --host {args.host} is not a loopback address: anyone who can reach"
                " it can act as every person in the playground. Use 127.0.0.1 unless you"
                " mean it.",
                file=sys.stderr,
                flush=True,
            )
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


async def _inbox(settings: Settings, retry: int | None) -> int:
    from datetime import UTC, datetime

    from bot.storage.database import open_database

    db = open_database(settings.database)
    await db.connect()
    try:
        await db.migrate()
        if retry is not None:
            async with db.unit_of_work() as uow:
                found = await uow.inbox.unpark(retry, datetime.now(UTC))
            if not found:
                print(f"error: update {retry} is not parked", file=sys.stderr)
                return 1
            print(f"update {retry} is back in its lane; a running bot takes it up within seconds")
            return 0
        async with db.read() as uow:
            counts = await uow.inbox.counts()
            parked = await uow.inbox.parked()
    finally:
        await db.close()
    print(f"inbox: {counts['pending']} pending, {counts['parked']} parked, {counts['done']} done")
    for row in parked:
        when = row.parked_at.strftime("%Y-%m-%d %H:%M:%S") if row.parked_at else "?"
        print(
            f"  {row.update_id}  {row.kind:<16} user {row.user_id}  attempts {row.attempts}"
            f"  parked {when}  {row.last_error}"
        )
    if parked:
        print("put one back with: python -m bot inbox --retry UPDATE_ID")
    return 0


async def _copy_db(settings: Settings, source_url: str, target_url: str) -> int:
    from bot.domain.clock import SystemClock
    from bot.services.ledger import LedgerService
    from bot.storage.copy import CopyRefused, copy_database
    from bot.storage.database import open_database, redact
    from bot.storage.errors import StorageError
    from bot.storage.postgres import PostgresDatabase
    from bot.storage.sqlite import SQLiteDatabase

    source = open_database(source_url, currency=settings.currency)
    target = open_database(target_url, currency=settings.currency)
    if not isinstance(source, SQLiteDatabase):
        print("error: --from must be a sqlite:/// URL", file=sys.stderr)
        return 2
    if not isinstance(target, PostgresDatabase):
        print("error: --to must be a postgresql:// URL", file=sys.stderr)
        return 2
    if not source.path.exists():
        print(f"error: --from: no database at {source.path}", file=sys.stderr)
        return 2
    # A fault names the option that chose the database, not DATA_DIR or DATABASE_URL.
    try:
        await source.connect()
    except StorageError as exc:
        print(
            f"error: --from {redact(source_url)}: the database cannot be used: {exc}",
            file=sys.stderr,
        )
        return 1
    try:
        try:
            await target.connect()
            await target.migrate()
            counts = await copy_database(source, target)
            problems = await LedgerService(
                target, settings.currency, SystemClock()
            ).check_invariants()
        except CopyRefused:
            raise  # not a fault of the database: the CLI says why it refused
        except StorageError as exc:
            print(
                f"error: --to {redact(target_url)}: the database cannot be used: {exc}",
                file=sys.stderr,
            )
            return 1
        finally:
            await target.close()
    finally:
        await source.close()
    print(f"copied {redact(source_url)} -> {redact(target_url)}")
    width = max((len(count.table) for count in counts), default=0)
    for count in counts:
        mark = "ok" if count.source == count.target else "MISMATCH"
        print(f"  {count.table:<{width}} {count.source:>10} rows -> {count.target:>10}  {mark}")
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
            # The playground never contacts Telegram and keeps its own database: what .env says
            # of those is not even read (see NOT_FROM_ENV).
            from bot.playground.settings import NOT_READ

            settings = load_settings(**NOT_READ)
        elif args.command in OFFLINE_COMMANDS:
            settings = load_settings(bot_token=OFFLINE_TOKEN)
        else:
            settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "webhook" and (problem := _webhook_refusal(settings)):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    token = settings.bot_token.get_secret_value()
    secrets = [token]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    setup_logging(settings.log_level, secrets, settings.log_format)
    try:
        return _dispatch(args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _fail(_explain(exc, settings), token)


def _configured_sqlite(settings: Settings, what: str, instead: str) -> Path | None:
    """The SQLite file DATA_DIR or DATABASE_URL names; None, said why, on PostgreSQL."""
    from bot.storage.database import open_database
    from bot.storage.sqlite import SQLiteDatabase

    database = open_database(settings.database)
    if isinstance(database, SQLiteDatabase):
        return database.path
    print(
        f"error: {what} SQLite; for PostgreSQL use {instead} (docs/operations.md)",
        file=sys.stderr,
    )
    return None


def _backup(settings: Settings, target: Path) -> int:
    from bot.storage.sqlite import SQLiteDatabase

    source = _configured_sqlite(settings, "backup copies", "pg_dump")
    if source is None:
        return 2
    if not source.exists():
        print(f"error: no database at {source} (DATA_DIR or DATABASE_URL)", file=sys.stderr)
        return 2
    if target.exists():
        print(f"error: --to {target}: the file exists; a backup never overwrites", file=sys.stderr)
        return 2

    async def copy() -> int:
        await SQLiteDatabase(source).backup_into(target)
        print(f"backed up {source} -> {target}")
        code = await _check_copy(settings, target)
        print("keep the pepper with it: SECRET_PEPPER, or DATA_DIR/secret_pepper")
        return code

    return asyncio.run(copy())


def _restore(settings: Settings, backup: Path) -> int:
    from bot.storage.sqlite import SQLiteDatabase

    target = _configured_sqlite(settings, "restore writes", "pg_restore")
    if target is None:
        return 2
    if not backup.is_file():
        print(f"error: --from {backup}: no such file", file=sys.stderr)
        return 2
    if target.exists():
        print(
            f"error: {target} exists: restore only into an empty data directory"
            " (stop the bot, move the old file away)",
            file=sys.stderr,
        )
        return 2

    async def copy() -> int:
        await SQLiteDatabase(backup).backup_into(target)
        print(f"restored {backup} -> {target}")
        code = await _check_copy(settings, target, migrate=True)
        print(
            "the pepper goes along: SECRET_PEPPER, or DATA_DIR/secret_pepper, as when the backup"
            " was taken"
        )
        return code

    return asyncio.run(copy())


async def _check_copy(settings: Settings, path: Path, *, migrate: bool = False) -> int:
    """The ledger's invariants on a copy; a restored one is brought to this version first."""
    from bot.domain.clock import SystemClock
    from bot.services.ledger import LedgerService
    from bot.storage.sqlite import SQLiteDatabase

    copy = SQLiteDatabase(path)
    copy.currency = settings.currency
    await copy.connect()
    try:
        if migrate:
            applied = await copy.migrate()
            if applied:
                print(f"migrations applied: {applied}")
        problems = await LedgerService(copy, settings.currency, SystemClock()).check_invariants()
        async with copy.read() as uow:
            users, entries = await uow.ledger.size()
    finally:
        await copy.close()
    print(f"  {users} users, {entries} ledger entries")
    print(f"ledger invariants: {'ok' if not problems else 'VIOLATED'}")
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


def _unset(settings: Settings, *names: str) -> str:
    """The named settings that are not set, as "A and B" (empty when all are)."""
    return " and ".join(name for name in names if getattr(settings, name.lower()) is None)


def _webhook_refusal(settings: Settings) -> str | None:
    if missing := _unset(settings, "WEBHOOK_URL", "WEBHOOK_SECRET"):
        return (
            f"webhook mode needs {missing}: the public https:// URL Telegram posts"
            " to, and a secret of 1-256 characters of A-Z a-z 0-9 _ - (see .env.example)"
        )
    if not settings.database.startswith("postgres"):
        return None  # one process on its SQLite file, which it locks
    # On PostgreSQL every process is a replica among others: none may keep its own pepper
    # (passwords set through one would fail in another) or count Telegram's limits alone.
    if alone := _unset(settings, "SECRET_PEPPER", "REDIS_URL"):
        return (
            f"webhook replicas on PostgreSQL need {alone}: one pepper for every"
            " replica (else a password set through one fails in another) and Redis to count"
            " Telegram's limits together (see .env.example)"
        )
    return None


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "playground":
        return asyncio.run(_playground(settings, args))
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "inbox":
        return asyncio.run(_inbox(settings, args.retry))
    elif args.command == "backup":
        return _backup(settings, args.to)
    elif args.command == "restore":
        return _restore(settings, args.source)
    elif args.command == "copy-db":
        return asyncio.run(_copy_db(settings, args.source or settings.database, args.to))
    else:
        _run_fast(_run(settings, webhook=args.command == "webhook"))
    return 0


def _run_fast(main: Coroutine[Any, Any, None]) -> None:
    """The bot's own loop on uvloop where it is installed (measured in bench/throughput.py)."""
    try:
        import uvloop
    except ImportError:  # Windows, or a platform without a wheel: asyncio's loop does the same
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _explain(exc: Exception, settings: Settings) -> str:
    """One line a person (or a supervisor's alert) can act on."""
    from aiogram.exceptions import AiogramError, TelegramNetworkError, TelegramUnauthorizedError

    from bot.services.catalog import CatalogError
    from bot.storage.copy import CopyRefused
    from bot.storage.errors import SharedStoreUnavailable, StorageError

    server = settings.telegram_api_url or "https://api.telegram.org"
    if isinstance(exc, TelegramUnauthorizedError):
        return "the Bot API rejected BOT_TOKEN (Unauthorized): check it with @BotFather"
    if isinstance(exc, CopyRefused):
        return f"copy-db refused: {exc}"
    if isinstance(exc, CatalogError):
        return str(exc)
    if isinstance(exc, SharedStoreUnavailable):
        return f"REDIS_URL: {exc}"
    if isinstance(exc, StorageError):
        setting = "DATABASE_URL" if settings.database_url else "DATA_DIR"
        return f"{setting}: the database cannot be used: {exc}"
    if isinstance(exc, TelegramNetworkError):
        return f"cannot reach the Bot API at {server}: {exc.message}"
    if isinstance(exc, AiogramError):
        return (
            f"the Bot API at {server} answered something unexpected ({type(exc).__name__}):"
            " check TELEGRAM_API_URL"
        )
    # A bug: the whole story goes to the log (the token masked), one line to the terminal.
    logging.getLogger("bot").critical("event=fatal error=%s", type(exc).__name__, exc_info=exc)
    return f"stopped by an unexpected {type(exc).__name__}; the log line above has the details"


def _fail(text: str, token: str) -> int:
    print(f"error: {text}".replace(token, "<redacted>").splitlines()[0], file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
