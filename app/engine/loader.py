"""YAML questionnaire files -> model objects.

The loader checks everything it can and reports *every* mistake, each as
`file:line: field: message`, so an author fixes a file in one pass.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import yaml

from . import conditions
from .calculators import CALCULATORS
from .conditions import MISSING
from .model import CHOICE_TYPES
from .model import DONT_KNOW
from .model import HORIZONS
from .model import NO
from .model import NOT_APPLICABLE
from .model import PRIORITIES
from .model import PROFILE_TYPES
from .model import QUESTION_TYPES
from .model import YES
from .model import Action
from .model import Band
from .model import Commitment
from .model import Dimension
from .model import Level
from .model import Option
from .model import Question
from .model import Questionnaire
from .model import Resource

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
VALUE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RESERVED_VALUES = {NOT_APPLICABLE, DONT_KNOW}
PUBLISHED_FILE = "PUBLISHED.sha256"
# Enumerating answer combinations proves that no better answer hides a
# scored follow-up; beyond this many combinations a condition is too complex.
MAX_COMBINATIONS = 50_000


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


# --- YAML with line numbers --------------------------------------------------


class _Map(dict):
    line = 0
    lines: dict


class _List(list):
    line = 0
    lines: list


# libyaml's parser, when PyYAML was built with it, is ten times faster to start.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """SafeLoader that keeps line numbers, reports duplicate keys and reads
    only `true`/`false` as booleans (YAML 1.1 would turn `no` and `on` into
    booleans, silently breaking option values and the `on:` trigger key)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_map(loader: _Loader, node):
    mapping = _Map()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in mapping:
            loader.duplicates.append((line, str(key)))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


def _construct_list(loader: _Loader, node):
    items = _List(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)


# --- Building the model, collecting errors -----------------------------------


class _Builder:
    def __init__(self, path: str):
        self.path = path
        self.errors: list[LoadError] = []

    def error(self, line: int, field: str, message: str) -> None:
        self.errors.append(LoadError(self.path, line, field, message))

    # Small typed readers: each returns a default and records an error on bad input.

    def keys(self, data, where: str, allowed: set[str], required: Iterable[str] = ()):
        if not isinstance(data, dict):
            self.error(getattr(data, "line", 0), where, "expected a mapping of fields")
            return False
        for key in data:
            if key not in allowed:
                self.error(_line(data, key), f"{where}.{key}", "unknown field")
        for key in required:
            if key not in data:
                self.error(data.line, f"{where}.{key}", "missing required field")
        return True

    def text(self, data, key, where, required=False) -> str:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.error(_line(data, key), f"{where}.{key}", "must not be empty")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(_line(data, key), f"{where}.{key}", "must be text")
            return ""
        if "\x00" in value:
            self.error(_line(data, key), f"{where}.{key}", "must not contain NUL characters")
            return ""
        return value.strip()

    def number(self, data, key, where, default=None, minimum=None) -> Fraction | None:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(_line(data, key), f"{where}.{key}", f"must be a number, not {value!r}")
            return default
        number = Fraction(str(value))
        if minimum is not None and number < minimum:
            self.error(_line(data, key), f"{where}.{key}", f"must be at least {minimum}")
            return default
        return number

    def flag(self, data, key, where, default=False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.error(_line(data, key), f"{where}.{key}", "must be true or false")
            return default
        return value

    def identifier(self, data, key, where) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.error(
                _line(data, key),
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
            self.error(_line(data, key), f"{where}.{key}", "must be a mapping")
            return {}
        return value

    def items(self, data, key, where, required=False) -> list:
        value = data.get(key)
        if value is None:
            if required:
                self.error(_line(data, key) or data.line, f"{where}.{key}", "must not be empty")
            return []
        if not isinstance(value, list):
            self.error(_line(data, key), f"{where}.{key}", "must be a list")
            return []
        if required and not value:
            self.error(_line(data, key), f"{where}.{key}", "must not be empty")
        return value


def _line(data, key) -> int:
    lines = getattr(data, "lines", None)
    if isinstance(lines, dict):
        return lines.get(key, getattr(data, "line", 0))
    return getattr(data, "line", 0)


TOP_KEYS = {
    "id", "version", "language", "title", "intro", "disclaimer", "estimated_minutes",
    "commitments", "commitment_thresholds", "profile", "legal", "dimensions", "levels",
}  # fmt: skip
QUESTION_KEYS = {
    "id", "type", "text", "help", "source", "evidence", "weight", "options", "points", "bands",
    "min", "max", "max_length", "unit", "allow_na", "dont_know", "knockout", "required", "when",
    "commitments", "actions", "cap", "calculator",
}  # fmt: skip
PROFILE_KEYS = {
    "id", "type", "text", "help", "options", "min", "max", "max_length", "unit", "required",
    "when",
}  # fmt: skip
OPTION_KEYS = {"value", "label", "points", "exclusive"}
ACTION_KEYS = {"id", "text", "priority", "horizon", "on", "missing", "below", "resources"}
LEVEL_KEYS = {
    "id", "title", "description", "next_steps", "min", "dimensions", "requires", "knockouts",
}  # fmt: skip
DIMENSION_KEYS = {"id", "title", "description", "weight", "questions"}


class _QuestionnaireBuilder(_Builder):
    def __init__(self, path: str):
        super().__init__(path)
        self.seen_ids: dict[str, int] = {}
        self.action_ids: dict[str, int] = {}
        self.fields: dict[str, Question] = {}
        self.commitment_ids: set[str] = set()
        self.referenced: set[str] = set()
        self.all_ids: set[str] = set()

    def build(self, data) -> Questionnaire | None:
        if not self.keys(data, "questionnaire", TOP_KEYS, ("id", "version", "language", "title")):
            return None
        qid = self.identifier(data, "id", "questionnaire")
        self.all_ids = _all_ids(data)
        version = data.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.error(_line(data, "version"), "version", "must be a whole number, 1 or more")
            version = 0
        language = data.get("language")
        if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2,3}", language or ""):
            self.error(_line(data, "language"), "language", "must be a language code like 'es'")
            language = ""
        commitments = self.commitments(data)
        thresholds = self.thresholds(data)
        profile = tuple(
            q
            for index, item in enumerate(self.items(data, "profile", "profile"))
            if (q := self.question(item, f"profile[{index}]", profile=True)) is not None
        )
        dimensions = []
        if "legal" in data:
            legal = self.dimension(data["legal"], "legal", legal=True)
            if legal is not None:
                dimensions.append(legal)
        for index, item in enumerate(self.items(data, "dimensions", "dimensions", required=True)):
            dimension = self.dimension(item, f"dimensions[{index}]")
            if dimension is not None:
                dimensions.append(dimension)
        self.check_unique([d.id for d in dimensions], data, "dimensions", "dimension id")
        levels = self.levels(data, {d.id for d in dimensions if not d.legal})
        self.check_follow_ups()
        if self.errors:
            return None
        scale = _common_scale(q for d in dimensions for q in d.questions)
        dimensions = [
            replace(d, questions=tuple(replace(q, scale=scale) for q in d.questions))
            for d in dimensions
        ]
        return Questionnaire(
            id=qid,
            version=version,
            language=language,
            title=self.text(data, "title", "questionnaire", required=True),
            intro=self.text(data, "intro", "questionnaire"),
            disclaimer=self.text(data, "disclaimer", "questionnaire"),
            estimated_minutes=int(self.number(data, "estimated_minutes", "questionnaire", 0, 0)),
            profile=profile,
            dimensions=tuple(dimensions),
            levels=levels,
            commitments=commitments,
            commitment_thresholds=thresholds,
        )

    def check_unique(self, ids, data, where, what):
        seen = set()
        for value in ids:
            if value in seen:
                self.error(_line(data, where), where, f"duplicate {what} {value!r}")
            seen.add(value)

    def commitments(self, data) -> tuple[Commitment, ...]:
        result = []
        for index, item in enumerate(self.items(data, "commitments", "commitments")):
            where = f"commitments[{index}]"
            if not self.keys(item, where, {"id", "title", "description"}, ("id", "title")):
                continue
            value = item.get("id")
            if not isinstance(value, str) or not VALUE_PATTERN.match(value):
                self.error(_line(item, "id"), f"{where}.id", "must be a short code like C1")
                continue
            if value in self.commitment_ids:
                self.error(_line(item, "id"), f"{where}.id", f"duplicate commitment id {value!r}")
            self.commitment_ids.add(value)
            result.append(
                Commitment(
                    value,
                    self.text(item, "title", where, required=True),
                    self.text(item, "description", where),
                )
            )
        return tuple(result)

    def thresholds(self, data) -> tuple[Fraction, Fraction]:
        settings = data.get("commitment_thresholds")
        if settings is None:
            return (Fraction(75), Fraction(25))
        where = "commitment_thresholds"
        if not self.keys(settings, where, {"in_place", "partial"}, ("in_place", "partial")):
            return (Fraction(75), Fraction(25))
        in_place = self.number(settings, "in_place", where, Fraction(75), 0)
        partial = self.number(settings, "partial", where, Fraction(25), 0)
        if not partial <= in_place <= 100:
            self.error(settings.line, where, "need 0 <= partial <= in_place <= 100")
        return (in_place, partial)

    def dimension(self, data, where, legal=False) -> Dimension | None:
        required = ("id", "title", "questions")
        if not self.keys(data, where, DIMENSION_KEYS - ({"weight"} if legal else set()), required):
            return None
        dimension_id = self.identifier(data, "id", where)
        questions = tuple(
            q
            for index, item in enumerate(self.items(data, "questions", where, required=True))
            if (q := self.question(item, f"{where}.questions[{index}]", legal=legal)) is not None
        )
        weight = Fraction(0) if legal else self.number(data, "weight", where, Fraction(1), 0)
        return Dimension(
            id=dimension_id,
            title=self.text(data, "title", where, required=True),
            description=self.text(data, "description", where),
            weight=weight,
            questions=questions,
            legal=legal,
        )

    def question(self, data, where, profile=False, legal=False) -> Question | None:
        allowed = PROFILE_KEYS if profile else QUESTION_KEYS
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            where = data["id"]
        if not self.keys(data, where, allowed, ("id", "type", "text")):
            return None
        qid = self.identifier(data, "id", where)
        if qid:
            if qid in self.seen_ids:
                self.error(
                    _line(data, "id"),
                    f"{where}.id",
                    f"duplicate question id {qid!r} (first on line {self.seen_ids[qid]})",
                )
            self.seen_ids.setdefault(qid, _line(data, "id"))
        kind = data.get("type")
        types = PROFILE_TYPES if profile else QUESTION_TYPES
        if kind not in types:
            self.error(
                _line(data, "type"),
                f"{where}.type",
                f"unknown type {kind!r}; use one of {', '.join(types)}",
            )
            return None
        allow_na = self.flag(data, "allow_na", where)
        dont_know = self.flag(data, "dont_know", where)
        if dont_know and kind in ("number", "text"):
            self.error(_line(data, "dont_know"), f"{where}.dont_know", f"not allowed for {kind}")
            dont_know = False
        options = self.options(data, where, kind, scored=not profile)
        bands = self.bands(data, where) if kind == "number" else ()
        if "bands" in data and kind != "number":
            self.error(_line(data, "bands"), f"{where}.bands", "only `number` questions have bands")
        minimum = self.number(data, "min", where)
        maximum = self.number(data, "max", where)
        if minimum is not None and maximum is not None and minimum > maximum:
            self.error(_line(data, "max"), f"{where}.max", "must not be less than min")
        max_length = self.number(data, "max_length", where, Fraction(2000), 1)
        when = self.condition(data, where, qid)
        question = Question(
            id=qid,
            type=kind,
            text=self.text(data, "text", where, required=True),
            line=data.line,
            help=self.text(data, "help", where),
            source=self.text(data, "source", where),
            evidence=self.text(data, "evidence", where),
            weight=self.number(data, "weight", where, Fraction(1), 0),
            options=options,
            bands=bands,
            min=minimum,
            max=maximum,
            max_length=int(max_length),
            unit=self.text(data, "unit", where),
            allow_na=allow_na,
            dont_know=dont_know,
            knockout=self.flag(data, "knockout", where, default=legal),
            required=self.flag(data, "required", where, default=True),
            when=when,
            commitments=self.question_commitments(data, where),
            cap=self.number(data, "cap", where, None, 0),
            calculator=self.calculator(data, where, kind),
            section="profile" if profile else "",
        )
        if "cap" in data and kind != "multiple":
            self.error(_line(data, "cap"), f"{where}.cap", "only `multiple` questions have a cap")
        if question.knockout and question.max_points == 0:
            self.error(
                _line(data, "knockout") or data.line,
                f"{where}.knockout",
                "a knock-out question needs points, so that passing it can be told from failing",
            )
        actions = self.actions(data, where, question)
        question = replace(question, actions=actions)
        if qid:
            self.fields[qid] = question
        return question

    def options(self, data, where, kind, scored) -> tuple[Option, ...]:
        if kind == "yesno":
            if "options" in data:
                self.error(
                    _line(data, "options"),
                    f"{where}.options",
                    "yesno questions have fixed options; give `points: {yes: 1, no: 0}`",
                )
            points = data.get("points", _Map({YES: 1, NO: 0}))
            if not self.keys(points, f"{where}.points", {YES, NO}, (YES, NO)):
                return ()
            return tuple(
                Option(value, "", self.number(points, value, f"{where}.points", Fraction(0), 0))
                for value in (YES, NO)
            )
        if "points" in data:
            self.error(_line(data, "points"), f"{where}.points", "give points on each option")
        if kind not in ("single", "scale", "multiple"):
            if "options" in data:
                self.error(_line(data, "options"), f"{where}.options", f"{kind} has no options")
            return ()
        result = []
        seen = set()
        items = self.items(data, "options", where, required=True)
        if 0 < len(items) < 2:
            self.error(_line(data, "options"), f"{where}.options", "give at least two options")
        for index, item in enumerate(items):
            place = f"{where}.options[{index}]"
            if not self.keys(item, place, OPTION_KEYS, ("value", "label")):
                continue
            value = item.get("value")
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str) or not VALUE_PATTERN.match(value):
                self.error(
                    _line(item, "value"), f"{place}.value", f"{value!r} is not a valid value"
                )
                continue
            if value in RESERVED_VALUES:
                self.error(
                    _line(item, "value"),
                    f"{place}.value",
                    f"{value!r} is reserved; use `allow_na: true` or `dont_know: true`",
                )
            if value in seen:
                self.error(_line(item, "value"), f"{place}.value", f"duplicate option {value!r}")
            seen.add(value)
            if scored and "points" not in item:
                self.error(item.line, f"{place}.points", "missing points")
            if not scored and "points" in item:
                self.error(
                    _line(item, "points"), f"{place}.points", "profile options have no points"
                )
            exclusive = self.flag(item, "exclusive", place)
            if exclusive and kind != "multiple":
                self.error(_line(item, "exclusive"), f"{place}.exclusive", "only for `multiple`")
            result.append(
                Option(
                    value,
                    self.text(item, "label", place, required=True),
                    self.number(item, "points", place, Fraction(0), 0),
                    exclusive,
                )
            )
        return tuple(result)

    def calculator(self, data, where, kind) -> str:
        name = data.get("calculator")
        if name is None:
            return ""
        if name not in CALCULATORS:
            self.error(
                _line(data, "calculator"),
                f"{where}.calculator",
                f"unknown calculator {name!r}; use one of {', '.join(CALCULATORS)}",
            )
            return ""
        if kind not in CHOICE_TYPES:
            self.error(
                _line(data, "calculator"), f"{where}.calculator", "only for choice questions"
            )
        return name

    def bands(self, data, where) -> tuple[Band, ...]:
        result = []
        for index, item in enumerate(self.items(data, "bands", where)):
            place = f"{where}.bands[{index}]"
            if not self.keys(item, place, {"min", "points"}, ("min", "points")):
                continue
            band = Band(
                self.number(item, "min", place, Fraction(0)),
                self.number(item, "points", place, Fraction(0), 0),
            )
            if result and band.min <= result[-1].min:
                self.error(item.line, f"{place}.min", "bands must be listed by increasing min")
            result.append(band)
        return tuple(result)

    def question_commitments(self, data, where) -> tuple[str, ...]:
        items = self.items(data, "commitments", where)
        for item in items:
            if item not in self.commitment_ids:
                self.error(
                    _line(data, "commitments"),
                    f"{where}.commitments",
                    f"unknown commitment {item!r}",
                )
        return tuple(str(item) for item in items)

    def condition(self, data, where, qid):
        if "when" not in data:
            return None
        line = _line(data, "when")
        try:
            condition = conditions.parse(data["when"])
        except conditions.ConditionError as error:
            self.error(line, f"{where}.when", f"column {error.column}: {error}")
            return None
        valid = True
        for name in sorted(condition.names):
            if name == qid:
                self.error(line, f"{where}.when", "a question cannot depend on itself")
                valid = False
            elif name not in self.fields and name in self.seen_ids:
                valid = False  # an earlier question that failed to load: already reported
            elif name not in self.fields:
                known = name in self.all_ids
                message = (
                    f"{name!r} comes later; a condition may only use earlier questions"
                    if known
                    else f"unknown field {name!r}"
                )
                self.error(line, f"{where}.when", message)
                valid = False
            elif self.fields[name].type == "text":
                self.error(line, f"{where}.when", f"text field {name!r} cannot be used")
                valid = False
        if valid:
            for message in self.type_errors(condition):
                self.error(line, f"{where}.when", message)
                valid = False
        self.referenced |= condition.names
        return condition if valid else None

    def type_errors(self, condition):
        """Catch comparisons that could never be true: a typo in an option value,
        a number compared with text, a list field used as a single value."""
        for node in condition.comparisons():
            left, right, op = node.left, node.right, node.op
            names = [n for n in (left, right) if isinstance(n, conditions.Name)]
            if not names:
                yield f"{op!r} compares two constants"
                continue
            for name_node in names:
                field = self.fields[name_node.name]
                other = right if name_node is left else left
                if field.type == "number":
                    values = _constants(other)
                    if op in ("in", "not in") and name_node is right:
                        yield f"{field.id!r} is a number; it cannot hold other values"
                    elif any(isinstance(v, str) for v in values):
                        yield f"{field.id!r} is a number; compare it with numbers"
                    continue
                if op in ("<", "<=", ">", ">="):
                    yield f"{field.id!r} is not a number; use == or in"
                    continue
                if field.type == "multiple" and op in ("==", "!="):
                    yield f"{field.id!r} holds several values; write 'value' in {field.id}"
                    continue
                valid = (
                    set(field.option_by_value)
                    | ({NOT_APPLICABLE} if field.allow_na else set())
                    | ({DONT_KNOW} if field.dont_know else set())
                )
                for value in _constants(other):
                    if value not in valid:
                        yield f"{value!r} is not an option of {field.id!r}"

    def actions(self, data, where, question) -> tuple[Action, ...]:
        result = []
        for index, item in enumerate(self.items(data, "actions", where)):
            place = f"{where}.actions[{index}]"
            if not self.keys(item, place, ACTION_KEYS, ("id", "text", "priority")):
                continue
            action_id = self.identifier(item, "id", place)
            if action_id in self.action_ids:
                self.error(_line(item, "id"), f"{place}.id", f"duplicate action id {action_id!r}")
            self.action_ids.setdefault(action_id, item.line)
            priority = item.get("priority")
            if priority not in PRIORITIES:
                self.error(
                    _line(item, "priority"),
                    f"{place}.priority",
                    f"must be one of {', '.join(PRIORITIES)}",
                )
                priority = "low"
            horizon = item.get("horizon")
            if horizon is not None and horizon not in HORIZONS:
                self.error(
                    _line(item, "horizon"),
                    f"{place}.horizon",
                    f"must be one of {', '.join(map(str, HORIZONS))} (days)",
                )
                horizon = None
            on = self.trigger_values(item, "on", place, question)
            missing = self.trigger_values(item, "missing", place, question)
            if missing and question.type != "multiple":
                self.error(_line(item, "missing"), f"{place}.missing", "only for `multiple`")
            below = self.number(item, "below", place, None, 0)
            if below is not None and not 0 < below <= question.max_points:
                self.error(
                    _line(item, "below"),
                    f"{place}.below",
                    f"must be above 0 and at most the question's {question.max_points} points",
                )
            if not any(key in item for key in ("on", "missing", "below")):
                self.error(item.line, f"{place}", "needs a trigger: `on`, `missing` or `below`")
            result.append(
                Action(
                    id=action_id,
                    question_id=question.id,
                    text=self.text(item, "text", place, required=True),
                    priority=priority,
                    horizon=horizon,
                    on=on,
                    missing=missing,
                    below=below,
                    resources=self.resources(item, place),
                )
            )
        return tuple(result)

    def trigger_values(self, item, key, place, question) -> tuple[str, ...]:
        values = self.items(item, key, place)
        result = []
        for value in values:
            value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
            if value not in question.option_by_value:
                self.error(
                    _line(item, key),
                    f"{place}.{key}",
                    f"{value!r} is not an option of {question.id!r}",
                )
            else:
                result.append(value)
        return tuple(result)

    def resources(self, item, place) -> tuple[Resource, ...]:
        result = []
        for index, resource in enumerate(self.items(item, "resources", place)):
            where = f"{place}.resources[{index}]"
            if not self.keys(resource, where, {"title", "url"}, ("title", "url")):
                continue
            url = resource.get("url")
            if not isinstance(url, str) or not re.match(r"^https?://[^\s<>\"']+$", url):
                self.error(_line(resource, "url"), f"{where}.url", "must be an http(s) address")
                continue
            result.append(Resource(self.text(resource, "title", where, required=True), url))
        return tuple(result)

    def levels(self, data, dimension_ids: set[str]) -> tuple[Level, ...]:
        result = []
        items = self.items(data, "levels", "levels", required=True)
        for index, item in enumerate(items):
            where = f"levels[{index}]"
            if not self.keys(item, where, LEVEL_KEYS, ("id", "title")):
                continue
            minimums = []
            for dimension_id in self.mapping(item, "dimensions", where):
                if dimension_id not in dimension_ids:
                    self.error(
                        _line(item, "dimensions"),
                        f"{where}.dimensions",
                        f"unknown dimension {dimension_id!r}",
                    )
                number = self.number(item["dimensions"], dimension_id, f"{where}.dimensions", 0, 0)
                minimums.append((dimension_id, number))
            requires = []
            for question_id in self.mapping(item, "requires", where):
                question = self.fields.get(question_id)
                if question is None and question_id in self.seen_ids:
                    continue  # it failed to load: already reported
                if question is None or question.section == "profile":
                    self.error(
                        _line(item, "requires"),
                        f"{where}.requires",
                        f"unknown question {question_id!r}",
                    )
                    continue
                number = self.number(item["requires"], question_id, f"{where}.requires", 0, 0)
                if number > question.max_points:
                    self.error(
                        _line(item["requires"], question_id),
                        f"{where}.requires.{question_id}",
                        f"{question_id!r} earns at most {question.max_points} points",
                    )
                requires.append((question_id, number))
            knockouts = item.get("knockouts")
            if knockouts not in (None, "passed"):
                self.error(
                    _line(item, "knockouts"), f"{where}.knockouts", "the only value is `passed`"
                )
            level = Level(
                id=self.identifier(item, "id", where),
                title=self.text(item, "title", where, required=True),
                description=self.text(item, "description", where),
                next_steps=self.text(item, "next_steps", where),
                min=self.number(item, "min", where, Fraction(0), 0),
                dimensions=tuple(minimums),
                requires=tuple(requires),
                knockouts_passed=knockouts == "passed",
            )
            if level.min > 100:
                self.error(_line(item, "min"), f"{where}.min", "must be at most 100")
            if result:
                self.check_level_order(result[-1], level, item, where)
            result.append(level)
        self.check_unique([level.id for level in result], data, "levels", "level id")
        return tuple(result)

    def check_level_order(self, lower: Level, level: Level, item, where):
        """Levels are listed lowest first: each asks at least what the one before asks."""
        if level.min < lower.min:
            self.error(
                _line(item, "min"),
                f"{where}.min",
                f"levels out of order: {level.min} is below the previous level's {lower.min}",
            )
        lower_minimums = dict(lower.dimensions)
        for dimension_id, minimum in level.dimensions:
            if minimum < lower_minimums.get(dimension_id, 0):
                self.error(
                    _line(item, "dimensions"),
                    f"{where}.dimensions.{dimension_id}",
                    "levels out of order: below the previous level's minimum",
                )
        if lower.knockouts_passed and not level.knockouts_passed:
            self.error(
                item.line,
                f"{where}.knockouts",
                "levels out of order: the previous level requires passed knock-outs",
            )

    def check_follow_ups(self):
        """Prove that no better answer can hide a question that counts.

        A follow-up hidden by an answer earns 0 while its points stay
        possible; if a *better* answer could hide a follow-up that earns
        points, raising one answer could lower a score. Every combination of
        the answers a condition reads is tried (MAX_COMBINATIONS at most)."""
        for question in self.fields.values():
            if question.when is None or question.section == "profile":
                continue
            answer_names = [
                name
                for name in sorted(question.when.names)
                if self.fields[name].section != "profile"
            ]
            if not answer_names or not (question.scored or question.id in self.referenced):
                continue
            names = sorted(question.when.names)
            constants = _numbers(question.when)
            states = {name: _states(self.fields[name], constants) for name in names}
            total = 1
            for name in names:
                total *= len(states[name])
            if total > MAX_COMBINATIONS:
                self.error(
                    question.line,
                    f"{question.id}.when",
                    "condition too complex to check; split it into simpler follow-ups",
                )
                continue
            problem = _find_hiding_raise(question, names, answer_names, states)
            if problem:
                name, before, after = problem
                self.error(
                    question.line,
                    f"{question.id}.when",
                    f"a better answer to {name!r} ({_show(before)} -> {_show(after)}) hides "
                    "this question, so raising an answer could lower the score; show "
                    "follow-ups that count for better answers, or give them no points",
                )


def _common_scale(questions) -> int:
    """The least common multiple of the denominators of every weighted point."""
    scale = 1
    for question in questions:
        values = [o.points for o in question.options] + [b.points for b in question.bands]
        values += [question.max_points]
        for value in values:
            scale = math.lcm(scale, (question.weight * value).denominator)
    return scale


def _all_ids(data) -> set[str]:
    blocks = [data.get("profile"), (data.get("legal") or {}).get("questions")]
    blocks += [d.get("questions") for d in data.get("dimensions") or [] if isinstance(d, dict)]
    return {
        item["id"]
        for block in blocks
        if isinstance(block, list)
        for item in block
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }


def _constants(node):
    if isinstance(node, conditions.Literal):
        return [node.value]
    if isinstance(node, conditions.ListLiteral):
        return list(node.values)
    return []


def _numbers(condition) -> set:
    values = set()
    for node in condition.comparisons():
        for side in (node.left, node.right):
            values.update(
                v
                for v in _constants(side)
                if isinstance(v, int | float) and not isinstance(v, bool)
            )
    return values


def _states(field: Question, constants: set) -> list[tuple[object, Fraction | None]]:
    """Every distinguishable value of a field, with its points (None for `na`)."""
    lowest = Fraction(-1)  # unanswered: any answer is a raise from here
    states: list[tuple[object, Fraction | None]] = [(MISSING, lowest)]
    if field.type in CHOICE_TYPES:
        states += [(o.value, o.points) for o in field.options]
    elif field.type == "multiple":
        values = [o.value for o in field.options if not o.exclusive]
        for size in range(len(values) + 1):
            for subset in itertools.combinations(values, size):
                states.append((frozenset(subset), field.points(subset)))
        states += [(frozenset([o.value]), o.points) for o in field.options if o.exclusive]
    elif field.type == "number":
        numbers = {0}
        for constant in constants | {band.min for band in field.bands}:
            numbers |= {constant - 1, constant, constant + 1}
        states += [(n, field.points(n)) for n in sorted(numbers)]
    if field.dont_know:
        states.append((DONT_KNOW, Fraction(0)))
    if field.allow_na:
        states.append((NOT_APPLICABLE, None))
    return states


def _find_hiding_raise(question, names, answer_names, states):
    for combination in itertools.product(*(states[name] for name in names)):
        values = {
            name: value
            for name, (value, _) in zip(names, combination, strict=True)
            if value is not MISSING
        }
        if not question.when.evaluate(values):
            continue
        for name in answer_names:
            before, before_points = combination[names.index(name)]
            if before_points is None:
                continue
            for after, after_points in states[name]:
                if after_points is None or after_points < before_points or after is MISSING:
                    continue
                changed = dict(values)
                changed[name] = after
                if not question.when.evaluate(changed):
                    return name, before, after
    return None


def _show(value) -> str:
    if value is MISSING:
        return "unanswered"
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(value)) + "]"
    return repr(value)


# --- Files and registries ----------------------------------------------------


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
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(error, "problem", None) or str(error)
        raise QuestionnaireError([LoadError(name, line, "yaml", problem)]) from None
    finally:
        loader.dispose()
    builder = _QuestionnaireBuilder(name)
    for line, key in loader.duplicates:
        builder.error(line, key, "duplicate key")
    questionnaire = builder.build(data) if data is not None else None
    if data is None:
        builder.error(1, "file", "the file is empty")
    if builder.errors:
        raise QuestionnaireError(sorted(set(builder.errors), key=lambda e: (e.line, e.field)))
    return questionnaire


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

    def latest(self) -> list[Questionnaire]:
        ids = sorted({qid for qid, _ in self._by_key})
        return [self.get(qid) for qid in ids]


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
        relative = _display(path, root)
        if relative in published and published[relative] != questionnaire.sha256:
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
    return questionnaires, errors


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(Path(path).resolve().relative_to(Path(root).resolve()))
        except ValueError:
            pass
    return str(path)


def load_directory(directory: Path) -> Registry:
    """Load every questionnaire in a directory or raise QuestionnaireError."""
    questionnaires, errors = validate(questionnaire_files(directory), directory)
    if errors:
        raise QuestionnaireError(errors)
    return Registry(questionnaires)
