"""Directories of questionnaire files, the registry of loaded versions and
the published-versions lock that keeps a published version from changing."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .errors import LoadError
from .errors import QuestionnaireError
from .loader import load_file
from .model import CHOICE_TYPES
from .model import Questionnaire

PUBLISHED_FILE = "PUBLISHED.sha256"


def questionnaire_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob("**/*.yaml") if p.is_file())


def read_published(directory: Path) -> dict[str, str]:
    """The published-versions lock: relative path -> sha256 (`sha256sum` format)."""
    lock = Path(directory) / PUBLISHED_FILE
    if not lock.exists():
        return {}
    published = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, _, relative = line.strip().partition("  ")
            published[relative] = digest
    return published


class Registry:
    """All loaded questionnaires, several versions of one side by side."""

    def __init__(self, questionnaires: Iterable[Questionnaire]):
        self._by_key = {(q.id, q.version): q for q in questionnaires}

    def __iter__(self):
        return iter(sorted(self._by_key.values(), key=lambda q: (q.id, q.version)))

    def __len__(self):
        return len(self._by_key)

    def get(self, questionnaire_id: str, version: int | None = None) -> Questionnaire | None:
        if version is None:
            versions = [v for (qid, v) in self._by_key if qid == questionnaire_id]
            if not versions:
                return None
            version = max(versions)
        return self._by_key.get((questionnaire_id, version))


def validate(paths: Iterable[Path], root: Path | None = None) -> tuple[list, list[LoadError]]:
    """Load every file; return (questionnaires, errors) including duplicate
    (id, version) pairs and published versions that were changed."""
    questionnaires, errors, seen = [], [], {}
    published = read_published(root) if root else {}
    for path in paths:
        name = _display(path, root)
        try:
            questionnaire = load_file(path, name)
        except QuestionnaireError as error:
            errors.extend(error.errors)
            continue
        key = (questionnaire.id, questionnaire.version)
        if key in seen:
            errors.append(
                LoadError(name, 1, "version", f"{key[0]} version {key[1]} is also in {seen[key]}")
            )
            continue
        seen[key] = name
        if name in published and published[name] != questionnaire.sha256:
            errors.append(
                LoadError(
                    name,
                    1,
                    "version",
                    f"published version {questionnaire.version} was changed; publish the "
                    "change as a new version instead",
                )
            )
            continue
        questionnaires.append(questionnaire)
    errors.extend(_check_replaces(questionnaires, seen))
    return questionnaires, errors


def _check_replaces(questionnaires: list[Questionnaire], names: dict) -> list[LoadError]:
    """A `replaces` mapping names questions and options of the version it replaces:
    checked when that version is loaded with it (the builder reads one file)."""
    loaded = {(q.id, q.version): q for q in questionnaires}
    errors = []
    for questionnaire in questionnaires:
        replaces = questionnaire.replaces
        earlier = replaces and loaded.get((questionnaire.id, replaces.version))
        if not earlier:
            continue
        name = names[(questionnaire.id, questionnaire.version)]
        for rule in replaces.questions:
            where = f"replaces.{rule.question_id}"
            old = earlier.fields.get(rule.source_id)
            if old is None:
                message = f"version {earlier.version} has no question {rule.source_id!r}"
                errors.append(LoadError(name, rule.line, where, message))
                continue
            if _shape(old) != _shape(questionnaire.fields[rule.question_id]):
                message = f"cannot take the answers of {old.id!r}, a {old.type} question"
                errors.append(LoadError(name, rule.line, where, message))
            for _value, old_value, line in rule.options:
                if old_value not in old.option_by_value:
                    message = f"{old_value!r} is not an option of {old.id!r} in that version"
                    errors.append(LoadError(name, line, f"{where}.options", message))
    return errors


def _shape(question) -> str:
    """What an answer looks like: one option, a set of options, a number or text."""
    return "choice" if question.type in CHOICE_TYPES else question.type


def _relative(path: Path, root: Path) -> str:
    """A file's name in the lock and in errors: its path inside root."""
    return str(Path(path).resolve().relative_to(Path(root).resolve()))


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return _relative(path, root)
        except ValueError:
            pass
    return str(path)


def load_directory(directory: Path) -> Registry:
    """Load every questionnaire in a directory or raise QuestionnaireError."""
    questionnaires, errors = validate(questionnaire_files(directory), directory)
    if errors:
        raise QuestionnaireError(errors)
    return Registry(questionnaires)


def publish(path: Path, root: Path) -> Questionnaire:
    """Record a valid file in root's lock: from now on it must never change.

    Raises QuestionnaireError if the file is invalid, a published version was
    changed, or the file is not inside root (the lock could not name it)."""
    try:
        relative = _relative(path, root)
    except ValueError:
        message = f"must be inside the questionnaires directory {root}"
        raise QuestionnaireError([LoadError(str(path), 0, "file", message)]) from None
    loaded, errors = validate([path], root)
    if errors:
        raise QuestionnaireError(errors)
    questionnaire = loaded[0]
    lock = Path(root) / PUBLISHED_FILE
    lines = [
        line
        for line in (lock.read_text(encoding="utf-8").splitlines() if lock.exists() else [])
        if not line.endswith(f"  {relative}")
    ]
    lines.append(f"{questionnaire.sha256}  {relative}")
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return questionnaire
