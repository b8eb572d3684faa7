"""Set-up mistakes end in one clear line naming the setting or option, never a traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest
from aiohttp import web

from tests.databases import TEST_DATABASE_URL

TOKEN = "123456:cli-test-token-that-never-reaches-telegram"


async def _run(tmp_path: Path, *args: str, **env: str) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=str(tmp_path),
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, err.decode().strip().splitlines()


async def test_a_data_dir_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, lines = await _run(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL="http://127.0.0.1:9",
        DATA_DIR=str(blocker / "data"),
    )
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: DATA_DIR: ") and str(blocker) in lines[0]


async def test_an_unreachable_database_url_is_one_line(tmp_path: Path) -> None:
    code, lines = await _run(
        tmp_path,
        "migrate",
        BOT_TOKEN=TOKEN,
        DATABASE_URL="postgresql://giftwallet:secret-password@127.0.0.1:9/shop",
    )
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: DATABASE_URL: ")
    assert "secret-password" not in lines[0]


async def test_commands_that_never_talk_to_telegram_need_no_token(tmp_path: Path) -> None:
    code, lines = await _run(tmp_path, "migrate")
    assert code == 0 and not any("error" in line for line in lines), lines
    (tmp_path / ".env").write_text("BOT_TOKEN=\nDATA_DIR=data\n")  # as copied from .env.example
    code, lines = await _run(tmp_path, "inbox")
    assert code == 0 and not any("error" in line for line in lines), lines
    code, lines = await _run(
        tmp_path, "copy-db", "--to", "postgresql://giftwallet:secret-password@127.0.0.1:9/shop"
    )
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("error: --to postgresql://giftwallet:***@127.0.0.1:9/shop: ")
    assert "DATA_DIR" not in lines[0] and "secret-password" not in lines[0]


async def test_a_playground_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines = await _run(
            tmp_path, "playground", "--port", str(port), "--data-dir", str(tmp_path / "pg")
        )
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: --port {port}: the port is already in use")


async def _html_server(status: int) -> tuple[web.AppRunner, str]:
    """Something that is not the Bot API: a web server answering every path with HTML."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text="<html><h1>Welcome to nginx</h1></html>", status=status, content_type="text/html"
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("status", [200, 404, 502])
async def test_a_wrong_api_url_is_one_line_without_the_token(tmp_path: Path, status: int) -> None:
    runner, url = await _html_server(status)
    try:
        code, lines = await _run(
            tmp_path,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=url,
            DATA_DIR=str(tmp_path / "d"),
            LOG_LEVEL="ERROR",
        )
    finally:
        await runner.cleanup()
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and "TELEGRAM_API_URL" in lines[0]
    assert TOKEN not in lines[0] and TOKEN.split(":")[1] not in lines[0]


async def test_an_unreachable_api_url_names_it_without_the_token(tmp_path: Path) -> None:
    code, lines = await _run(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL="http://127.0.0.1:9/x",
        DATA_DIR=str(tmp_path),
        LOG_LEVEL="ERROR",
    )
    assert code == 1 and len(lines) == 1, lines
    assert "cannot reach the Bot API" in lines[0] and TOKEN not in lines[0]


@pytest.mark.alone  # bounds the exit in wall-clock time
@pytest.mark.parametrize("command", [[], ["migrate"]])
async def test_a_corrupt_database_stops_within_seconds_with_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "giftwallet.sqlite3").write_bytes(b"this is not a database at all " * 200)
    began = asyncio.get_running_loop().time()
    code, lines = await _run(
        tmp_path,
        *command,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL="http://127.0.0.1:9",
        DATA_DIR=str(data),
        LOG_LEVEL="ERROR",
    )
    assert asyncio.get_running_loop().time() - began < 20
    assert code == 1
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: DATA_DIR: the database cannot be used")


@pytest.mark.alone  # bounds the exit in wall-clock time
async def test_a_locked_sqlite_database_at_start_exits_within_seconds(tmp_path: Path) -> None:
    """Another process holds a write transaction: one line naming the lock, a non-zero exit,
    and no thread left behind to keep the process alive."""
    import sqlite3

    data = tmp_path / "data"
    code, _ = await _run(tmp_path, "migrate", DATA_DIR=str(data))
    assert code == 0
    holder = sqlite3.connect(data / "giftwallet.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE held_by_another_process (x)")
    try:
        began = asyncio.get_running_loop().time()
        code, lines = await _run(
            tmp_path,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL="http://127.0.0.1:9",
            DATA_DIR=str(data),
            LOG_LEVEL="ERROR",
        )
        # SQLite's busy timeout is 5 s; the rest is the interpreter starting on a busy machine.
        assert asyncio.get_running_loop().time() - began < 15
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 1 and len(lines) == 1, lines
    assert lines[0] == "error: DATA_DIR: the database cannot be used: database is locked"


@pytest.mark.alone  # bounds the exit in wall-clock time
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL")
async def test_a_locked_postgresql_table_at_start_names_the_lock(tmp_path: Path) -> None:
    import asyncpg

    from tests.databases import create_schema, drop_schema

    schema, url = await create_schema()
    try:
        code, _ = await _run(tmp_path, "migrate", DATABASE_URL=url)
        assert code == 0
        holder = await asyncpg.connect(url)
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE")
        try:
            began = asyncio.get_running_loop().time()
            code, lines = await _run(tmp_path, "migrate", DATABASE_URL=url, LOG_LEVEL="ERROR")
            assert asyncio.get_running_loop().time() - began < 20  # the lock timeout is 10 s
        finally:
            await transaction.rollback()
            await holder.close()
    finally:
        await drop_schema(schema)
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("error: DATABASE_URL: the database cannot be used: a table stayed")
    assert "schema_version (AccessExclusiveLock) held by pid" in lines[0]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "WEBHOOK_URL and WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "https://shop.example/hook"}, "needs WEBHOOK_SECRET:"),
        ({"WEBHOOK_URL": "https://shop.example/hook", "WEBHOOK_SECRET": "has spaces"}, "1-256"),
        (
            {
                "WEBHOOK_URL": "https://shop.example/hook",
                "WEBHOOK_SECRET": "s3cret",
                "DATABASE_URL": "postgresql://127.0.0.1:5432/test",
            },
            "replicas on PostgreSQL need SECRET_PEPPER and REDIS_URL",
        ),
        (
            {
                "WEBHOOK_URL": "https://shop.example/hook",
                "WEBHOOK_SECRET": "s3cret",
                "DATABASE_URL": "postgresql://127.0.0.1:5432/test",
                "SECRET_PEPPER": "p" * 40,
            },
            "replicas on PostgreSQL need REDIS_URL: ",
        ),
    ],
)
async def test_webhook_mode_without_its_settings_is_one_line(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    code, lines = await _run(tmp_path, "webhook", BOT_TOKEN=TOKEN, **env)
    assert code == 2
    assert len(lines) == 1, lines
    assert named in lines[0]
    assert "has spaces" not in lines[0], "a secret is never echoed"


@pytest.mark.parametrize("command", [(), ("webhook",)])
async def test_a_second_process_on_one_sqlite_file_refuses_with_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    from bot.storage.sqlite import SQLiteDatabase

    data = tmp_path / "data"
    running = SQLiteDatabase(data / "giftwallet.sqlite3")
    await running.connect()
    running.hold_sole_use()  # as the first bot process does
    try:
        code, lines = await _run(
            tmp_path,
            *command,
            BOT_TOKEN=TOKEN,
            DATA_DIR=str(data),
            TELEGRAM_API_URL="http://127.0.0.1:9",
            WEBHOOK_URL="https://shop.example/hook",
            WEBHOOK_SECRET="s3cret",
        )
    finally:
        await running.close()
    assert code == 1
    errors = [line for line in lines if "level=" not in line]  # log lines aside
    assert len(errors) == 1, lines
    assert errors[0].startswith("error: DATA_DIR: ")
    assert "another bot process is running on" in errors[0]
    assert "PostgreSQL" in errors[0]
    # Once the first has stopped, the lock is free again.
    again = SQLiteDatabase(data / "giftwallet.sqlite3")
    await again.connect()
    again.hold_sole_use()
    await again.close()
