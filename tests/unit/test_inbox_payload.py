"""An update is stored as the JSON text it came in as, whatever a client put in it."""

from __future__ import annotations

import json

import pytest

from bot.runtime.inbox import _json


@pytest.mark.parametrize(
    "text",
    ["plain", "Здравствуйте 💳", "a lone surrogate \ud800 from broken UTF-16", "\x00 and \u2028"],
)
def test_a_stored_update_reads_back_the_same_and_is_valid_utf8(text: str) -> None:
    raw = {"update_id": 7, "message": {"text": text, "big": 2**70, "at": 1.5}}

    stored = _json(raw)

    stored.encode("utf-8")  # any database takes it as text
    assert json.loads(stored) == raw


def test_text_stays_readable_rather_than_escaped() -> None:
    assert "Здравствуйте" in _json({"update_id": 1, "message": {"text": "Здравствуйте"}})
