"""The shape of the code that the rest of the project relies on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
MAX_FUNCTION_LINES = 60


def modules(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def imported_modules(path: Path, tree) -> set[str]:
    """Every module a file imports, relative imports resolved to `app.…`."""
    package = ".".join(path.relative_to(APP.parent).with_suffix("").parts[:-1])
    if path.name == "__init__.py":
        package = ".".join(path.relative_to(APP.parent).parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            prefix = ".".join(base) if node.level else ""
            module = ".".join(filter(None, [prefix, node.module or ""]))
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def test_the_engine_imports_neither_flask_nor_sqlalchemy():
    for path, tree in modules(APP / "engine"):
        roots = {name.split(".")[0] for name in imported_modules(path, tree)}
        assert not roots & {"flask", "flask_babel", "flask_wtf", "sqlalchemy", "werkzeug"}, path


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [("assess", "app.associations"), ("admin", "app.associations"), ("engine", "app.assess")],
)
def test_packages_do_not_reach_into_each_other(importer, forbidden):
    for path, tree in modules(APP / importer):
        reached = [m for m in imported_modules(path, tree) if m.startswith(forbidden)]
        assert reached == [], f"{path.relative_to(APP)} imports {reached}"


def test_no_function_is_longer_than_sixty_lines():
    long = [
        f"{path.relative_to(APP)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for path, tree in modules(APP)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
