"""The README's run command without a token starts the playground, and SIGTERM stops it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _token_configured() -> bool:
    env_file = ROOT / ".env"
    if not env_file.exists():
        return False
    return bool(re.search(r"^BOT_TOKEN=\S+", env_file.read_text("utf-8"), re.MULTILINE))


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.skipif(_token_configured(), reason=".env has a BOT_TOKEN: make run would go online")
async def test_make_run_without_token_serves_the_page_and_the_bot_answers(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATA_DIR": str(tmp_path / "data"),
        "PLAYGROUND_ARGS": f"--port 0 --data-dir {tmp_path / 'playground'}",
    }
    process = await asyncio.create_subprocess_exec(
        "make",
        "--no-print-directory",
        "run",
        cwd=str(ROOT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None
    try:
        url = None
        printed = []
        while url is None:
            line = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
            assert line, f"make run ended early: {printed}"
            printed.append(line)
            found = re.search(r"open (http://127\.0\.0\.1:\d+)/", line)
            url = found.group(1) if found else None
        assert any("No BOT_TOKEN" in line for line in printed)
        assert any("DATABASE_URL and BOT_TOKEN are ignored here" in line for line in printed)
        hint = (await asyncio.wait_for(process.stdout.readline(), timeout=10)).decode()
        assert "BOT_TOKEN" in hint and "@BotFather" in hint

        async with aiohttp.ClientSession(base_url=url) as http:
            async with http.get("/") as page:
                assert page.status == 200 and "Giftwallet playground" in await page.text()
            async with http.get("/api/events") as events:
                async with http.post("/api/send", json={"user_id": 1002, "text": "/start"}):
                    pass
                async for raw in events.content:
                    line = raw.decode().strip()
                    if not line.startswith("data:"):
                        continue
                    event = json.loads(line.removeprefix("data:"))
                    if event["type"] == "message_new" and event["chat_id"] == 1002:
                        async with http.get("/api/chat/1002") as chat:
                            messages = (await chat.json())["messages"]
                        if any(m["from_bot"] for m in messages):
                            break
            bot_text = next(m["text"] for m in messages if m["from_bot"])
            assert "Hello, Ben" in bot_text

        # The whole group, as a terminal's Ctrl+C would: make, and the playground it started.
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
        # make itself dies of the signal; the playground under it must have stopped cleanly.
        assert "event=stopped" in stderr.decode()
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
