"""After the migration stairway, SQLite and PostgreSQL hold the same schema: tables, columns,
nullability, primary keys, unique indexes, checks and foreign keys, normalised. Types differ by
design (SQLite keeps moments as ISO text), so they are not compared."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.storage.database import open_database
from tests.databases import ENABLE_HINT, TEST_DATABASE_URL, create_schema, drop_schema

Schema = dict[str, Any]


def _columns_in(expression: str) -> tuple[str, ...]:
    """The identifiers a CHECK or an index names, in order, without SQL words and literals."""
    words = {"and", "or", "not", "in", "is", "null", "between", "check", "value", "where"}
    words |= {"any", "array", "text", "integer", "bigint", "boolean"}  # PostgreSQL's casts
    expression = re.sub(r"'[^']*'", "", expression)
    names = re.findall(r"[a-z_][a-z0-9_]*", expression.lower())
    return tuple(sorted({n for n in names if n not in words and not n.isdigit()}))


def sqlite_schema(path: Path) -> Schema:
    conn = sqlite3.connect(path)
    try:
        schema: Schema = {}
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for table in tables:
            info = conn.execute(f"PRAGMA table_info({table})").fetchall()
            pk = tuple(row[1] for row in sorted(info, key=lambda r: r[5]) if row[5])
            columns = {row[1]: bool(row[3]) or row[1] in pk for row in info}
            uniques = set()
            for index in conn.execute(f"PRAGMA index_list({table})").fetchall():
                name, unique, origin = index[1], index[2], index[3]
                if not unique or origin == "pk":
                    continue
                cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({name})"))
                sql = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
                ).fetchone()
                where = ""
                if sql and sql[0] and " WHERE " in sql[0].upper():
                    where = sql[0][sql[0].upper().index(" WHERE ") + 7 :]
                uniques.add((cols, _columns_in(where)))
            foreign = {
                (row[3], row[2], row[4])
                for row in conn.execute(f"PRAGMA foreign_key_list({table})").fetchall()
            }
            create = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()[0]
            checks = sorted(
                _columns_in(body)
                for body in _check_bodies(create)
                if not _BOOLEAN.match(body)  # SQLite's stand-in for PostgreSQL's BOOLEAN
            )
            schema[table] = {
                "columns": columns,
                "pk": pk,
                "uniques": uniques,
                "foreign": foreign,
                "checks": checks,
            }
        return schema
    finally:
        conn.close()


_BOOLEAN = re.compile(r"^\s*\w+\s+IN\s*\(\s*0\s*,\s*1\s*\)\s*$", re.IGNORECASE)


def _check_bodies(create: str) -> list[str]:
    """The text inside each CHECK (...) of a CREATE TABLE, balancing parentheses."""
    bodies = []
    for match in re.finditer(r"\bCHECK\s*\(", create, re.IGNORECASE):
        depth, start = 1, match.end()
        position = start
        while depth:
            depth += {"(": 1, ")": -1}.get(create[position], 0)
            position += 1
        bodies.append(create[start : position - 1])
    return bodies


async def postgres_schema(url: str, schema_name: str) -> Schema:
    conn = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        schema: Schema = {}
        tables = [
            row[0]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name",
                schema_name,
            )
        ]
        for table in tables:
            columns = {
                row[0]: row[1] == "NO"
                for row in await conn.fetch(
                    "SELECT column_name, is_nullable FROM information_schema.columns"
                    " WHERE table_schema = $1 AND table_name = $2",
                    schema_name,
                    table,
                )
            }
            oid = await conn.fetchval("SELECT to_regclass($1)::oid", f"{schema_name}.{table}")
            constraints = await conn.fetch(
                "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1",
                oid,
            )
            pk: tuple[str, ...] = ()
            foreign = set()
            checks = []
            uniques = set()
            for raw_kind, definition in constraints:
                kind = raw_kind.decode() if isinstance(raw_kind, bytes) else raw_kind  # "char"
                if kind == "p":
                    pk = tuple(
                        c.strip()
                        for c in re.search(r"\((.*)\)", definition).group(1).split(",")  # type: ignore[union-attr]
                    )
                elif kind == "f":
                    found = re.match(
                        r"FOREIGN KEY \((\w+)\) REFERENCES (?:\w+\.)?(\w+)\((\w+)\)", definition
                    )
                    assert found, definition
                    foreign.add((found.group(1), found.group(2), found.group(3)))
                elif kind == "c":
                    checks.append(_columns_in(definition))
                elif kind == "u":
                    cols = re.search(r"\((.*)\)", definition).group(1)  # type: ignore[union-attr]
                    uniques.add((tuple(c.strip() for c in cols.split(",")), ()))
            for (definition,) in await conn.fetch(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = $1 AND i.indisunique AND NOT i.indisprimary"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                oid,
            ):
                found = re.search(r"USING \w+ \(([^)]*)\)(?: WHERE (.*))?$", definition)
                assert found, definition
                cols = tuple(c.strip() for c in found.group(1).split(","))
                uniques.add((cols, _columns_in(found.group(2) or "")))
            schema[table] = {
                "columns": columns,
                "pk": pk,
                "uniques": uniques,
                "foreign": foreign,
                "checks": sorted(checks),
            }
        return schema
    finally:
        await conn.close()


@pytest.mark.skipif(TEST_DATABASE_URL is None, reason=ENABLE_HINT)
async def test_sqlite_and_postgresql_hold_the_same_schema(tmp_path: Path) -> None:
    lite = open_database(f"sqlite:///{tmp_path / 'parity.sqlite3'}")
    await lite.connect()
    await lite.migrate()
    await lite.close()
    schema_name, url = await create_schema()
    try:
        pg = open_database(url)
        await pg.connect()
        await pg.migrate()
        await pg.close()
        expected = sqlite_schema(tmp_path / "parity.sqlite3")
        found = await postgres_schema(url, schema_name)
    finally:
        await drop_schema(schema_name)
    assert len(expected) > 20 and sum(len(t["foreign"]) for t in expected.values()) > 10
    assert sorted(found) == sorted(expected)
    differences = {
        f"{table}.{part}": (expected[table][part], found[table][part])
        for table in expected
        for part in ("columns", "pk", "uniques", "foreign", "checks")
        if expected[table][part] != found[table][part]
    }
    assert differences == {}
