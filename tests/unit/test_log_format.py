"""LOG_FORMAT=json: one JSON object a line, the message's pairs as fields, secrets masked."""

from __future__ import annotations

import io
import json
import logging

from bot.log_setup import RedactingJsonFormatter

TOKEN = "123456:AAE-a-token-that-must-never-be-logged"


def test_a_record_is_one_object_with_its_pairs_as_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingJsonFormatter([TOKEN]))
    logger = logging.getLogger("giftwallet.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "event=inbox_retry update_id=%s level=fake url=https://api/bot%s/getMe",
            42,
            TOKEN,
        )
        try:
            raise RuntimeError(f"failed on {TOKEN}")
        except RuntimeError:
            logger.exception("event=crash user_id=7")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines() if line)
    assert first["event"] == "inbox_retry" and first["update_id"] == "42"
    assert first["level"] == "WARNING", "a pair never replaces the record's own field"
    assert first["logger"] == "giftwallet.test.json" and first["time"]
    assert second["event"] == "crash" and second["user_id"] == "7"
    assert "RuntimeError" in second["exc_info"]
    assert TOKEN not in stream.getvalue()
    assert "<redacted>" in first["url"] and "<redacted>" in second["exc_info"]
