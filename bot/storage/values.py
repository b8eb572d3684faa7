"""Column values that the backends return differently."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def as_datetime(value: Any) -> datetime:
    """PostgreSQL returns ``timestamptz`` as a datetime; SQLite keeps ISO 8601 text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
