"""Structured logs that never carry the bot token: key=value lines, or JSON objects.

Every line the bot writes is ``event=<name> key=value ...``. With ``LOG_FORMAT=json`` each
record is one JSON object a line (python-json-logger), with those pairs as fields of their
own beside the message, for a collector to index without parsing.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


class RedactingFormatter(logging.Formatter):
    """Masks known secrets in the whole formatted record, tracebacks included.

    Request URLs embed the bot token, and an HTTP error may quote one.
    """

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text


_PAIR = re.compile(r"(?:^|\s)([a-z_][a-z0-9_]*)=(\S+)")
# Fields a record brings itself: a pair of the message never replaces one of them.
_OWN = frozenset({"time", "level", "logger", "message", "exc_info", "stack_info"})


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object a record; the message's key=value pairs as fields; secrets masked."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        self.secrets = [s for s in secrets if s]

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        for key, value in _PAIR.findall(str(log_data.get("message", ""))):
            if key not in _OWN:
                log_data.setdefault(key, value)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text


def setup_logging(level: str, secrets: list[str], log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingJsonFormatter(secrets)
        if log_format == "json"
        else RedactingFormatter(LOG_FORMAT, secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiogram logs a line per update at INFO; that is noise and measurable overhead.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, root.level))
    # APScheduler narrates every job at INFO; our jobs log what they did themselves.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
