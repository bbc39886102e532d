"""YAML questionnaire files -> model objects.

The loader checks everything it can and reports *every* mistake, each as
`file:line: field: message`, so an author fixes a file in one pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import yaml

from .builder import QuestionnaireBuilder
from .errors import LoadError
from .errors import QuestionnaireError
from .model import Questionnaire
from .yaml_lines import Loader


def load_file(path: Path | str, display: str | None = None) -> Questionnaire:
    """Load one questionnaire file or raise QuestionnaireError with every mistake."""
    path = Path(path)
    name = display or str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise QuestionnaireError([LoadError(name, 0, "file", f"cannot read: {error}")]) from None
    questionnaire = load_text(text, name)
    return replace(questionnaire, path=str(path), sha256=hashlib.sha256(raw).hexdigest())


def load_text(text: str, name: str = "<text>") -> Questionnaire:
    """Parse questionnaire YAML text or raise QuestionnaireError."""
    loader = Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(error, "problem", None) or str(error)
        raise QuestionnaireError([LoadError(name, line, "yaml", problem)]) from None
    finally:
        loader.dispose()
    builder = QuestionnaireBuilder(name)
    for line, key in loader.duplicates:
        builder.error(line, key, "duplicate key")
    questionnaire = builder.build(data) if data is not None else None
    if data is None:
        builder.error(1, "file", "the file is empty")
    if builder.errors:
        raise QuestionnaireError(sorted(set(builder.errors), key=lambda e: (e.line, e.field)))
    return questionnaire
