"""What several benchmarks need: a PostgreSQL schema of their own, and a process's memory."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg


async def _execute(url: str, *statements: str) -> None:
    admin = await asyncpg.connect(url)
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


@asynccontextmanager
async def scratch_schema(postgres_url: str, name: str) -> AsyncIterator[str]:
    """Yields a URL whose ``search_path`` is a fresh schema ``bench_<name>_<pid>``."""
    schema = f"bench_{name}_{os.getpid()}"
    drop = f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'
    await _execute(postgres_url, drop, f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield f"{postgres_url}{sep}search_path={schema}"
    finally:
        await _execute(postgres_url, drop)


def resident_memory(pid: int | str = "self") -> int:
    """A process's resident memory in bytes (Linux); 0 when it is gone or /proc is missing."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
