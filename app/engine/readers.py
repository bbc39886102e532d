"""Typed readers over YAML fields that record errors instead of raising."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from contextlib import contextmanager
from fractions import Fraction

from .errors import LoadError
from .yaml_lines import LineList
from .yaml_lines import line_of

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class Items(LineList):
    """The items of a list field. Iterating over them tells the reader the line of each
    item, so that an item of the wrong shape (a word or a number where a mapping is
    expected) is reported on its own line: plain values do not carry one."""

    def __init__(self, items: LineList, reader: Reader):
        super().__init__(items)
        self.line = getattr(items, "line", 0)
        self.lines = list(getattr(items, "lines", []))
        self.reader = reader

    def __iter__(self):
        for index, item in enumerate(super().__iter__()):
            line = self.lines[index] if index < len(self.lines) else self.line
            with self.reader.near(line):
                yield item


class Reader:
    """Collects every LoadError of one file, so an author fixes it in one pass."""

    def __init__(self, path: str):
        self.path = path
        self.errors: list[LoadError] = []
        # The line of the value being read, for values that cannot carry one (a word
        # where a mapping is expected): set by `near`, and while iterating over `items`.
        self.line_hint = 1

    @contextmanager
    def near(self, line: int):
        """Read a value written on `line`."""
        previous, self.line_hint = self.line_hint, line
        try:
            yield
        finally:
            self.line_hint = previous

    def error(self, line: int, field: str, message: str) -> None:
        self.errors.append(LoadError(self.path, line, field, message))

    # Small typed readers: each returns a default and records an error on bad input.

    def keys(self, data, where: str, allowed: set[str], required: Iterable[str] = ()):
        if not isinstance(data, dict):
            line = getattr(data, "line", 0) or self.line_hint
            self.error(line, where, "expected a mapping of fields")
            return False
        for key in data:
            if key not in allowed:
                self.error(line_of(data, key), f"{where}.{key}", "unknown field")
        for key in required:
            if key not in data:
                self.error(data.line, f"{where}.{key}", "missing required field")
        return True

    def text(self, data, key, where, required=False) -> str:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.error(line_of(data, key), f"{where}.{key}", "must not be empty")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(line_of(data, key), f"{where}.{key}", "must be text")
            return ""
        if "\x00" in value:
            self.error(line_of(data, key), f"{where}.{key}", "must not contain NUL characters")
            return ""
        return value.strip()

    def number(self, data, key, where, default=None, minimum=None) -> Fraction | None:
        if key not in data:
            return default
        value = data[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            self.error(line_of(data, key), f"{where}.{key}", f"must be a number, not {value!r}")
            return default
        number = Fraction(str(value))
        if minimum is not None and number < minimum:
            self.error(line_of(data, key), f"{where}.{key}", f"must be at least {minimum}")
            return default
        return number

    def flag(self, data, key, where, default=False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.error(line_of(data, key), f"{where}.{key}", "must be true or false")
            return default
        return value

    def identifier(self, data, key, where) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.error(
                line_of(data, key),
                f"{where}.{key}",
                f"{value!r} is not a valid id (lower-case letters, digits, '_' or '-', "
                "starting with a letter)",
            )
            return ""
        return value

    def mapping(self, data, key, where) -> dict:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error(line_of(data, key), f"{where}.{key}", "must be a mapping")
            return {}
        return value

    def items(self, data, key, where, required=False) -> list:
        value = data.get(key)
        if value is None:
            if required:
                self.error(line_of(data, key) or data.line, f"{where}.{key}", "must not be empty")
            return []
        if not isinstance(value, list):
            self.error(line_of(data, key), f"{where}.{key}", "must be a list")
            return []
        if required and not value:
            self.error(line_of(data, key), f"{where}.{key}", "must not be empty")
        return Items(value, self)
