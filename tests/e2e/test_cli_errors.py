"""Set-up mistakes end in one clear line naming the setting or option, never a traceback."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

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
