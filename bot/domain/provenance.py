"""Which Telegram update the current code runs for: set by the inbox around each update and
written beside every ledger entry, so a lost answer can later be replaced by a true one."""

from __future__ import annotations

from contextvars import ContextVar

HANDLING_UPDATE: ContextVar[int | None] = ContextVar("handling_update", default=None)
