"""A running playground (emulator, real bot and page) on a free port, in the test's loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.playground.server import Playground


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    running = Playground(port=0, data_dir=tmp_path / "playground")
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def http(playground: Playground) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=playground.url) as session:
        yield session
