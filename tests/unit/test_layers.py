"""The house rules of docs/architecture.md, checked on the source so they cannot drift."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
DRIVERS = {"aiosqlite", "asyncpg", "sqlite3"}


def _modules(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _offenders(paths: list[Path], banned: set[str]) -> list[str]:
    return [
        f"{path.relative_to(BOT.parent)} imports {name}"
        for path in paths
        for name in sorted(_imports(path))
        if any(name == b or name.startswith(f"{b}.") for b in banned)
    ]


def test_database_drivers_are_imported_only_in_storage() -> None:
    outside = [p for p in _modules(BOT) if "storage" not in p.relative_to(BOT).parts]
    assert _offenders(outside, DRIVERS) == []


def test_handlers_keyboards_and_middlewares_never_import_storage() -> None:
    paths = [p for part in ("handlers", "keyboards", "middlewares") for p in _modules(BOT / part)]
    assert _offenders(paths, {"bot.storage"}) == []


def test_services_import_neither_aiogram_nor_a_driver() -> None:
    assert _offenders(_modules(BOT / "services"), {"aiogram", *DRIVERS}) == []


def test_no_method_has_a_twin_that_differs_by_taking_a_connection() -> None:
    twins = []
    for path in _modules(BOT):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {
                    item.name
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                }
                twins += [
                    f"{path.name}: {node.name}.{name}"
                    for name in names
                    if name.endswith("_in") and name.removesuffix("_in") in names
                ]
    assert twins == []


# Everything above storage: what storage may never import.
ABOVE_STORAGE = {
    "bot.services",
    "bot.screens",
    "bot.handlers",
    "bot.keyboards",
    "bot.middlewares",
    "bot.runtime",
    "bot.webapp",
    "bot.app",
    "bot.i18n",
    "bot.playground",
    "bot.emulator",
}


def test_storage_imports_nothing_above_it() -> None:
    assert _offenders(_modules(BOT / "storage"), ABOVE_STORAGE) == []


def test_domain_imports_no_other_part_of_the_bot() -> None:
    paths = _modules(BOT / "domain")
    imported = {name for path in paths for name in _imports(path) if name.startswith("bot.")}
    assert {name for name in imported if not name.startswith("bot.domain")} == set()


def test_handlers_import_no_other_handler_but_filters_and_dialogs() -> None:
    shared = {"bot.handlers.filters", "bot.handlers.dialogs"}
    offenders = [
        f"{path.name} imports {name}"
        for path in _modules(BOT / "handlers")
        if path.name != "__init__.py"  # it collects the routers
        for name in sorted(_imports(path))
        if name.startswith("bot.handlers") and name not in shared
    ]
    assert offenders == []


def test_services_and_screens_import_no_handler_and_no_runtime() -> None:
    paths = _modules(BOT / "services") + _modules(BOT / "screens")
    assert _offenders(paths, {"bot.handlers", "bot.runtime", "bot.app"}) == []


def test_only_the_cli_imports_the_playground() -> None:
    outside = [
        p
        for p in _modules(BOT)
        if "playground" not in p.relative_to(BOT).parts and p.name != "__main__.py"
    ]
    assert _offenders(outside, {"bot.playground"}) == []


def test_the_mini_app_reads_through_services_only() -> None:
    """Like a handler: no SQL, no other way in, nothing of the chat's runtime."""
    forbidden = {"bot.storage", "bot.handlers", "bot.runtime", "bot.app", "bot.playground"}
    assert len(_modules(BOT / "webapp")) >= 3
    assert _offenders(_modules(BOT / "webapp"), forbidden) == []
