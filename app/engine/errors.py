"""Loading errors: each mistake as `file:line: field: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class LoadError:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class QuestionnaireError(Exception):
    """Raised with every LoadError found."""

    def __init__(self, errors: list[LoadError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors
