"""The secrets scan itself finds what it looks for (every test's teardown relies on it)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from tests.conftest import TOKEN, SecretsWatch
from tests.secrets_scan import dump_sqlite, leaks


def test_a_password_or_a_card_in_a_table_is_found(tmp_path: Path) -> None:
    path = tmp_path / "leaky.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('pw Gift-Wallet-42, card 2200 7000 0000 0009')")
    conn.commit()
    conn.close()
    assert leaks(dump_sqlite(path)) == ["Gift-Wallet-42", "2200 7000 0000 0009"]
    assert leaks("answer БАРСИК") == ["барсик"]
    assert leaks("card •••• 0009, hash $argon2id$v=19$...") == []


def test_the_log_watch_sees_a_secret_but_not_the_masked_token() -> None:
    watch = SecretsWatch()
    log = logging.getLogger("tests.leaky")
    record = log.makeRecord(log.name, logging.INFO, __file__, 1, "url=/bot%s/getMe", (TOKEN,), None)
    watch.emit(record)
    assert watch.found == []  # production masks the token, and so does the watch
    record = log.makeRecord(
        log.name, logging.INFO, __file__, 1, "typed %s", ("secret-pass-42",), None
    )
    watch.emit(record)
    assert watch.found == ["tests.leaky: ['secret-pass-42']"]
