"""`python -m bot backup` while the bot runs, and `restore` into an empty data directory: the
copy holds the same money, and both check the ledger's invariants."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import BotAPIEmulator
from bot.storage.database import open_database
from tests.conftest import TOKEN, RunningBot
from tests.e2e.test_certificates import buy
from tests.e2e.test_skeleton import say

LENA = 3401


async def cli(*args: str, cwd: Path, **env: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=str(cwd),
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "BOT_TOKEN": TOKEN, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()


async def balance_in(url: str, user: int) -> int:
    db = open_database(url)
    await db.connect()
    try:
        async with db.read() as uow:
            return int(
                await uow.session.fetchval(
                    "SELECT balance FROM accounts WHERE user_id = $1 AND kind = 'balance'", user
                )
            )
    finally:
        await db.close()


async def test_an_online_backup_restores_into_an_empty_data_dir(
    emulator: BotAPIEmulator, start_bot: Callable[..., Any], backend: str, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL is backed up with pg_dump (docs/operations.md)")
    bot: RunningBot = await start_bot()
    emulator.add_user(LENA, "Lena", language_code="en")
    await say(emulator, LENA, "/start")
    await buy(emulator, bot, LENA, "$20")
    database = bot.app.settings.database
    backup = tmp_path / "backups" / "giftwallet-1.sqlite3"

    # While the bot runs: an online copy.
    code, out = await cli("backup", "--to", str(backup), cwd=tmp_path, DATABASE_URL=database)
    assert code == 0, out
    assert "ledger invariants: ok" in out and "pepper" in out
    code, out = await cli("backup", "--to", str(backup), cwd=tmp_path, DATABASE_URL=database)
    assert code == 2 and "never overwrites" in out
    await bot.stop()

    fresh = tmp_path / "restored"
    code, out = await cli("restore", "--from", str(backup), cwd=tmp_path, DATA_DIR=str(fresh))
    assert code == 0, out
    assert "ledger invariants: ok" in out and "pepper goes along" in out
    restored = f"sqlite:///{fresh / 'giftwallet.sqlite3'}"
    assert await balance_in(restored, LENA) == await balance_in(database, LENA) == 2000
    code, out = await cli("restore", "--from", str(backup), cwd=tmp_path, DATA_DIR=str(fresh))
    assert code == 2 and "empty data directory" in out
    code, out = await cli(
        "backup",
        "--to",
        str(tmp_path / "pg.dump"),
        cwd=tmp_path,
        DATABASE_URL="postgresql://127.0.0.1:5432/test",
    )
    assert code == 2 and "pg_dump" in out
