"""Numbered schema migrations, shipped in ``bot/storage/migrations``.

``NNN_name.sql`` serves every backend. Where the dialects differ, one file per dialect shares the
number and the name: ``NNN_name.sqlite.sql`` and ``NNN_name.postgresql.sql``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

DIALECTS = ("sqlite", "postgresql")
_FILE_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+?)(?:\.(sqlite|postgresql))?\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: str) -> list[Migration]:
    """The migrations for ``dialect``, in version order; a gap or a missing dialect file fails."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    shared: dict[int, Migration] = {}
    specific: dict[str, dict[int, Migration]] = {d: {} for d in DIALECTS}
    names: dict[int, str] = {}
    for item in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = _FILE_NAME.match(item.name)
        if not match:
            continue
        version, name, only = int(match.group(1)), match.group(2), match.group(3)
        if names.setdefault(version, name) != name:
            raise RuntimeError(f"migration {version:03d} has two names: {names[version]}, {name}")
        migration = Migration(version, name, item.read_text("utf-8"))
        (specific[only] if only else shared)[version] = migration
    versions = sorted(names)
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 001.. without gaps, got {versions}")
    found = []
    for version in versions:
        if version in shared:
            found.append(shared[version])
        elif all(version in specific[d] for d in DIALECTS):
            found.append(specific[dialect][version])
        else:
            raise RuntimeError(
                f"migration {version:03d} needs a shared file or one per dialect ({DIALECTS})"
            )
    return found
