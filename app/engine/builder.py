"""Questionnaire YAML data -> model objects, with every mistake recorded."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from fractions import Fraction

from . import conditions
from .calculators import CALCULATORS
from .follow_ups import check_follow_ups
from .follow_ups import constants
from .model import BASES
from .model import CHOICE_TYPES
from .model import COMMITMENT_MINIMUMS
from .model import DONT_KNOW
from .model import HORIZONS
from .model import NO
from .model import NOT_APPLICABLE
from .model import PRIORITIES
from .model import PROFILE
from .model import PROFILE_TYPES
from .model import QUESTION_TYPES
from .model import YES
from .model import Action
from .model import Band
from .model import Check
from .model import Commitment
from .model import Dimension
from .model import Level
from .model import Option
from .model import Question
from .model import Questionnaire
from .model import Replacement
from .model import Replaces
from .model import Resource
from .model import Rewording
from .readers import Reader
from .yaml_lines import LineMap
from .yaml_lines import line_of

VALUE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COMMITMENT_RANK = {"": 0} | {status: rank for rank, status in enumerate(COMMITMENT_MINIMUMS, 1)}
RESERVED_VALUES = {NOT_APPLICABLE, DONT_KNOW}

TOP_KEYS = {
    "id", "version", "language", "title", "intro", "disclaimer", "estimated_minutes",
    "commitments", "commitment_thresholds", "profile", "legal", "dimensions", "levels", "checks",
    "replaces",
}  # fmt: skip
QUESTION_KEYS = {
    "id", "type", "text", "help", "source", "evidence", "weight", "options", "points", "bands",
    "min", "max", "max_length", "unit", "allow_na", "dont_know", "knockout", "required", "when",
    "commitments", "actions", "cap", "calculator", "basis", "hidden_because", "evidence_on",
    "reworded", "why",
}  # fmt: skip
PROFILE_KEYS = {
    "id", "type", "text", "help", "options", "min", "max", "max_length", "unit", "required",
    "when", "identity",
}  # fmt: skip
OPTION_KEYS = {"value", "label", "points", "exclusive"}
ACTION_KEYS = {"id", "text", "priority", "horizon", "on", "missing", "below", "resources", "when"}
REWORDED_KEYS = {"when", "text", "help", "evidence", "options", "actions"}
CHECK_KEYS = {"id", "when", "message", "questions"}
RESOURCE_KEYS = {"title", "url", "lang"}
LANGUAGES_PATTERN = re.compile(r"^[a-z]{2,3}(\+[a-z]{2,3})*$")  # es, or es+ht
REPLACES_KEYS = {"version", "questions"}
REPLACEMENT_KEYS = {"id", "from", "options"}
LEVEL_KEYS = {
    "id", "title", "description", "next_steps", "min", "dimensions", "requires", "knockouts",
    "commitments",
}  # fmt: skip
DIMENSION_KEYS = {"id", "title", "description", "weight", "questions"}


class QuestionnaireBuilder(Reader):
    """Builds one questionnaire top to bottom: what it has read so far lets
    later conditions, actions and levels be checked."""

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
            self.error(line_of(data, "version"), "version", "must be a whole number, 1 or more")
            version = 0
        language = data.get("language")
        if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2,3}", language or ""):
            self.error(line_of(data, "language"), "language", "must be a language code like 'es'")
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
            with self.near(line_of(data, "legal")):
                legal = self.dimension(data["legal"], "legal", legal=True)
            if legal is not None:
                dimensions.append(legal)
        for index, item in enumerate(self.items(data, "dimensions", "dimensions", required=True)):
            dimension = self.dimension(item, f"dimensions[{index}]")
            if dimension is not None:
                dimensions.append(dimension)
        self.check_unique([d.id for d in dimensions], data, "dimensions", "dimension id")
        levels = self.levels(data, {d.id for d in dimensions if not d.legal})
        checks = self.checks(data)
        replaces = self.replaces(data, version)
        for question, problem in check_follow_ups(self.fields, self.referenced):
            self.error(question.line, f"{question.id}.when", problem)
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
            checks=checks,
            replaces=replaces,
        )

    def check_unique(self, ids, data, where, what):
        seen = set()
        for value in ids:
            if value in seen:
                self.error(line_of(data, where), where, f"duplicate {what} {value!r}")
            seen.add(value)

    def commitments(self, data) -> tuple[Commitment, ...]:
        result = []
        for index, item in enumerate(self.items(data, "commitments", "commitments")):
            where = f"commitments[{index}]"
            if not self.keys(item, where, {"id", "title", "description"}, ("id", "title")):
                continue
            value = item.get("id")
            if not isinstance(value, str) or not VALUE_PATTERN.match(value):
                self.error(line_of(item, "id"), f"{where}.id", "must be a short code like C1")
                continue
            if value in self.commitment_ids:
                self.error(line_of(item, "id"), f"{where}.id", f"duplicate commitment id {value!r}")
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
        with self.near(line_of(data, where)):
            shaped = self.keys(settings, where, {"in_place", "partial"}, ("in_place", "partial"))
        if not shaped:
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
        qid = self.question_id(data, where)
        kind = self.question_type(data, where, profile)
        if kind is None:
            return None
        minimum, maximum, max_length = self.limits(data, where)
        question = Question(
            id=qid,
            type=kind,
            text=self.text(data, "text", where, required=True),
            line=data.line,
            help=self.text(data, "help", where),
            why=self.text(data, "why", where),
            source=self.text(data, "source", where),
            evidence=self.text(data, "evidence", where),
            weight=self.number(data, "weight", where, Fraction(1), 0),
            options=self.options(data, where, kind, scored=not profile),
            bands=self.bands(data, where, kind),
            min=minimum,
            max=maximum,
            max_length=max_length,
            unit=self.text(data, "unit", where),
            allow_na=self.flag(data, "allow_na", where),
            dont_know=self.dont_know(data, where, kind),
            knockout=self.flag(data, "knockout", where, default=legal),
            required=self.flag(data, "required", where, default=True),
            when=self.condition(data, where, qid),
            commitments=self.question_commitments(data, where),
            cap=self.cap(data, where, kind),
            calculator=self.calculator(data, where, kind),
            section="profile" if profile else "",
            basis=self.basis(data, where),
            hidden_because=self.text(data, "hidden_because", where),
            identity=self.flag(data, "identity", where),
        )
        if question.knockout and question.max_points == 0:
            self.error(
                line_of(data, "knockout") or data.line,
                f"{where}.knockout",
                "a knock-out question needs points, so that passing it can be told from failing",
            )
        question = replace(question, actions=self.actions(data, where, question))
        question = replace(
            question,
            evidence_on=self.trigger_values(data, "evidence_on", where, question),
            reworded=self.rewording(data, where, question),
        )
        self.check_hiding(data, where, question)
        if qid:
            self.fields[qid] = question
        return question

    def question_id(self, data, where) -> str:
        """The id, remembered with its line: later conditions and levels look it up."""
        qid = self.identifier(data, "id", where)
        if qid:
            if qid in self.seen_ids:
                self.error(
                    line_of(data, "id"),
                    f"{where}.id",
                    f"duplicate question id {qid!r} (first on line {self.seen_ids[qid]})",
                )
            self.seen_ids.setdefault(qid, line_of(data, "id"))
        return qid

    def question_type(self, data, where, profile) -> str | None:
        kind = data.get("type")
        types = PROFILE_TYPES if profile else QUESTION_TYPES
        if kind not in types:
            self.error(
                line_of(data, "type"),
                f"{where}.type",
                f"unknown type {kind!r}; use one of {', '.join(types)}",
            )
            return None
        return kind

    def limits(self, data, where) -> tuple[Fraction | None, Fraction | None, int]:
        """min, max and max_length of an answer."""
        minimum = self.number(data, "min", where)
        maximum = self.number(data, "max", where)
        if minimum is not None and maximum is not None and minimum > maximum:
            self.error(line_of(data, "max"), f"{where}.max", "must not be less than min")
        return minimum, maximum, int(self.number(data, "max_length", where, Fraction(2000), 1))

    def dont_know(self, data, where, kind) -> bool:
        dont_know = self.flag(data, "dont_know", where)
        if dont_know and kind in ("number", "text"):
            self.error(line_of(data, "dont_know"), f"{where}.dont_know", f"not allowed for {kind}")
            return False
        return dont_know

    def cap(self, data, where, kind) -> Fraction | None:
        if "cap" in data and kind != "multiple":
            self.error(line_of(data, "cap"), f"{where}.cap", "only `multiple` questions have a cap")
        return self.number(data, "cap", where, None, 0)

    def options(self, data, where, kind, scored) -> tuple[Option, ...]:
        if kind == "yesno":
            return self.yesno_options(data, where)
        if "points" in data:
            self.error(line_of(data, "points"), f"{where}.points", "give points on each option")
        if kind not in ("single", "scale", "multiple"):
            if "options" in data:
                self.error(line_of(data, "options"), f"{where}.options", f"{kind} has no options")
            return ()
        seen: set[str] = set()
        items = self.items(data, "options", where, required=True)
        if 0 < len(items) < 2:
            self.error(line_of(data, "options"), f"{where}.options", "give at least two options")
        return tuple(
            option
            for index, item in enumerate(items)
            if (option := self.option(item, f"{where}.options[{index}]", kind, scored, seen))
            is not None
        )

    def yesno_options(self, data, where) -> tuple[Option, ...]:
        if "options" in data:
            self.error(
                line_of(data, "options"),
                f"{where}.options",
                "yesno questions have fixed options; give `points: {yes: 1, no: 0}`",
            )
        points = data.get("points", LineMap({YES: 1, NO: 0}))
        if not self.keys(points, f"{where}.points", {YES, NO}, (YES, NO)):
            return ()
        return tuple(
            Option(value, "", self.number(points, value, f"{where}.points", Fraction(0), 0))
            for value in (YES, NO)
        )

    def option(self, item, place, kind, scored, seen: set[str]) -> Option | None:
        """One listed option; `seen` collects the values of the options before it."""
        if not self.keys(item, place, OPTION_KEYS, ("value", "label")):
            return None
        value = self.option_value(item, place, seen)
        if value is None:
            return None
        if scored and "points" not in item:
            self.error(item.line, f"{place}.points", "missing points")
        if not scored and "points" in item:
            self.error(line_of(item, "points"), f"{place}.points", "profile options have no points")
        exclusive = self.flag(item, "exclusive", place)
        if exclusive and kind != "multiple":
            self.error(line_of(item, "exclusive"), f"{place}.exclusive", "only for `multiple`")
        return Option(
            value,
            self.text(item, "label", place, required=True),
            self.number(item, "points", place, Fraction(0), 0),
            exclusive,
        )

    def option_value(self, item, place, seen: set[str]) -> str | None:
        value = item.get("value")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not VALUE_PATTERN.match(value):
            self.error(line_of(item, "value"), f"{place}.value", f"{value!r} is not a valid value")
            return None
        if value in RESERVED_VALUES:
            self.error(
                line_of(item, "value"),
                f"{place}.value",
                f"{value!r} is reserved; use `allow_na: true` or `dont_know: true`",
            )
        if value in seen:
            self.error(line_of(item, "value"), f"{place}.value", f"duplicate option {value!r}")
        seen.add(value)
        return value

    def calculator(self, data, where, kind) -> str:
        name = data.get("calculator")
        if name is None:
            return ""
        if name not in CALCULATORS:
            self.error(
                line_of(data, "calculator"),
                f"{where}.calculator",
                f"unknown calculator {name!r}; use one of {', '.join(CALCULATORS)}",
            )
            return ""
        if kind not in CHOICE_TYPES:
            self.error(
                line_of(data, "calculator"), f"{where}.calculator", "only for choice questions"
            )
        return name

    def bands(self, data, where, kind) -> tuple[Band, ...]:
        if kind != "number":
            if "bands" in data:
                self.error(
                    line_of(data, "bands"), f"{where}.bands", "only `number` questions have bands"
                )
            return ()
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
            if not isinstance(item, str) or item not in self.commitment_ids:
                self.error(
                    line_of(data, "commitments"),
                    f"{where}.commitments",
                    f"unknown commitment {item!r}",
                )
        return tuple(str(item) for item in items)

    def condition(self, data, where, qid):
        if "when" not in data:
            return None
        line = line_of(data, "when")
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
            if isinstance(left, conditions.Product) or isinstance(right, conditions.Product):
                yield from self.product_errors(node)
                continue
            names = [n for n in (left, right) if isinstance(n, conditions.Name)]
            if not names:
                yield f"{op!r} compares two constants"
                continue
            for name_node in names:
                field = self.fields[name_node.name]
                other = right if name_node is left else left
                if field.type == "number":
                    values = constants(other)
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
                for value in constants(other):
                    if value not in valid:
                        yield f"{value!r} is not an option of {field.id!r}"

    def product_errors(self, node):
        """Products compare numbers of the profile (the follow-up proof does not try
        products of answers)."""
        if node.op in ("in", "not in"):
            yield "a product is a number; compare it with <, <=, >, >=, == or !="
        for side in (node.left, node.right):
            factors = side.factors if isinstance(side, conditions.Product) else (side,)
            for factor in factors:
                if isinstance(factor, conditions.Name):
                    field = self.fields[factor.name]
                    if field.type != "number" or field.section != PROFILE:
                        yield f"{field.id!r} in a product must be a number of the profile"
                elif not (
                    isinstance(factor, conditions.Literal)
                    and isinstance(factor.value, int | float)
                    and not isinstance(factor.value, bool)
                ):
                    yield "a product multiplies numbers and number fields only"

    def basis(self, data, where) -> str:
        basis = data.get("basis", "law")
        if basis not in BASES:
            self.error(
                line_of(data, "basis"), f"{where}.basis", f"must be one of {', '.join(BASES)}"
            )
            return "law"
        return basis

    def check_hiding(self, data, where, question):
        """What the profile may hide. A legal duty, where the law lifts it (say which in
        `hidden_because`); a practice, only for what the organisation is (an `identity`
        field). Otherwise a declaration could buy a better level: ask the practice in a
        form that fits instead (`reworded`)."""
        if question.basis != "law" and not question.knockout:
            self.error(line_of(data, "basis"), f"{where}.basis", "only must-haves have a basis")
        if question.section == PROFILE or question.when is None:
            return
        profile_names = sorted(
            name for name in question.when.names if self.fields[name].section == PROFILE
        )
        if not profile_names:
            return
        line = line_of(data, "when")
        declared = [name for name in profile_names if not self.fields[name].identity]
        if declared and not question.knockout:
            self.error(
                line,
                f"{where}.when",
                f"a practice may not be hidden by what the organisation declares "
                f"({', '.join(declared)}); ask it in a form that fits with `reworded`",
            )
        elif not question.hidden_because:
            self.error(
                line,
                f"{where}.hidden_because",
                "the profile can hide this question: say why it does not apply (the law "
                "that lifts the duty, or what the organisation is)",
            )

    def rewording(self, data, where, question) -> Rewording | None:
        item = data.get("reworded")
        if item is None:
            return None
        place = f"{where}.reworded"
        if not self.keys(item, place, REWORDED_KEYS, ("when", "text")):
            return None
        when = self.condition(item, place, question.id)
        if when is not None and any(self.fields[n].section != PROFILE for n in when.names):
            self.error(line_of(item, "when"), f"{place}.when", "may only use profile fields")
        labels = self.mapping(item, "options", place)
        texts = self.mapping(item, "actions", place)
        action_ids = {action.id for action in question.actions}
        for key, known, what in ((labels, question.option_by_value, "option"),
                                 (texts, action_ids, "action")):  # fmt: skip
            for name in key:
                if str(name) not in known:
                    self.error(item.line, place, f"{name!r} is not an {what} of {question.id!r}")
        if when is None:
            return None
        return Rewording(
            when=when,
            text=self.text(item, "text", place, required=True),
            help=self.text(item, "help", place),
            evidence=self.text(item, "evidence", place),
            option_labels=tuple((str(k), self.text(labels, k, place)) for k in labels),
            action_texts=tuple((str(k), self.text(texts, k, place)) for k in texts),
        )

    def checks(self, data) -> tuple[Check, ...]:
        result = []
        for index, item in enumerate(self.items(data, "checks", "checks")):
            where = f"checks[{index}]"
            if not self.keys(item, where, CHECK_KEYS, ("id", "when", "message")):
                continue
            check_id = self.identifier(item, "id", where)
            when = self.condition(item, where, check_id)
            questions = tuple(str(q) for q in self.items(item, "questions", where))
            for name in questions:
                if name not in self.fields:
                    self.error(
                        line_of(item, "questions"), f"{where}.questions", f"unknown field {name!r}"
                    )
            if when is None:
                continue
            result.append(
                Check(
                    id=check_id,
                    when=when,
                    message=self.text(item, "message", where, required=True),
                    questions=questions or tuple(sorted(when.names)),
                    line=item.line,
                )
            )
        self.check_unique([c.id for c in result], data, "checks", "check id")
        return tuple(result)

    def actions(self, data, where, question) -> tuple[Action, ...]:
        result = []
        for index, item in enumerate(self.items(data, "actions", where)):
            place = f"{where}.actions[{index}]"
            if not self.keys(item, place, ACTION_KEYS, ("id", "text", "priority")):
                continue
            action_id = self.identifier(item, "id", place)
            if action_id in self.action_ids:
                self.error(line_of(item, "id"), f"{place}.id", f"duplicate action id {action_id!r}")
            self.action_ids.setdefault(action_id, item.line)
            priority = item.get("priority")
            if priority not in PRIORITIES:
                self.error(
                    line_of(item, "priority"),
                    f"{place}.priority",
                    f"must be one of {', '.join(PRIORITIES)}",
                )
                priority = "low"
            horizon = item.get("horizon")
            if horizon is not None and horizon not in HORIZONS:
                self.error(
                    line_of(item, "horizon"),
                    f"{place}.horizon",
                    f"must be one of {', '.join(map(str, HORIZONS))} (days)",
                )
                horizon = None
            on = self.trigger_values(item, "on", place, question)
            missing = self.trigger_values(item, "missing", place, question)
            if missing and question.type != "multiple":
                self.error(line_of(item, "missing"), f"{place}.missing", "only for `multiple`")
            below = self.number(item, "below", place, None, 0)
            if below is not None and not 0 < below <= question.max_points:
                self.error(
                    line_of(item, "below"),
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
                    when=self.condition(item, place, action_id),
                )
            )
        return tuple(result)

    def trigger_values(self, item, key, place, question) -> tuple[str, ...]:
        values = self.items(item, key, place)
        result = []
        for value in values:
            value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
            if not isinstance(value, str) or value not in question.option_by_value:
                self.error(
                    line_of(item, key),
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
            if not self.keys(resource, where, RESOURCE_KEYS, ("title", "url")):
                continue
            url = resource.get("url")
            if not isinstance(url, str) or not re.match(r"^https?://[^\s<>\"']+$", url):
                self.error(line_of(resource, "url"), f"{where}.url", "must be an http(s) address")
                continue
            languages = resource.get("lang", "")
            if not isinstance(languages, str) or not LANGUAGES_PATTERN.match(languages or "-"):
                if "lang" in resource:
                    self.error(
                        line_of(resource, "lang"),
                        f"{where}.lang",
                        "must be the page's language codes, e.g. es, or es+ht",
                    )
                languages = ""
            title = self.text(resource, "title", where, required=True)
            result.append(Resource(title, url, tuple(languages.split("+")) if languages else ()))
        return tuple(result)

    def replaces(self, data, version) -> Replaces | None:
        """`replaces`: how answers to an earlier version carry over. Ids of this file are
        checked here; those of the earlier version by the registry, which has it."""
        settings = data.get("replaces")
        if settings is None:
            return None
        with self.near(line_of(data, "replaces")):
            if not self.keys(settings, "replaces", REPLACES_KEYS, ("version", "questions")):
                return None
        earlier = settings.get("version")
        if isinstance(earlier, bool) or not isinstance(earlier, int) or not 1 <= earlier < version:
            self.error(
                line_of(settings, "version"),
                "replaces.version",
                f"must be an earlier version of this questionnaire (1 to {version - 1})",
            )
            return None
        rules, seen = [], set()
        for index, item in enumerate(self.items(settings, "questions", "replaces", required=True)):
            where = f"replaces.questions[{index}]"
            if not self.keys(item, where, REPLACEMENT_KEYS, ("id",)):
                continue
            qid = item.get("id")
            question = self.fields.get(qid) if isinstance(qid, str) else None
            if question is None:
                message = f"unknown question {qid!r}"
                self.error(line_of(item, "id"), f"{where}.id", message)
                continue
            if question.id in seen:
                self.error(line_of(item, "id"), f"{where}.id", f"{question.id!r} is named twice")
            seen.add(question.id)
            source = self.identifier(item, "from", where) or question.id
            options = []
            renamed = self.mapping(item, "options", where)
            for key, old in renamed.items():
                new, line = str(key), line_of(renamed, key)
                if new not in question.option_by_value:
                    message = f"{new!r} is not an option of {question.id!r}"
                    self.error(line, f"{where}.options", message)
                elif isinstance(old, bool) or not isinstance(old, int | str):
                    self.error(line, f"{where}.options.{new}", "must be an option value")
                else:
                    options.append((new, str(old), line))
            rules.append(Replacement(question.id, source, tuple(options), item.line))
        return Replaces(earlier, tuple(rules), line_of(data, "replaces"))

    def levels(self, data, dimension_ids: set[str]) -> tuple[Level, ...]:
        result = []
        items = self.items(data, "levels", "levels", required=True)
        for index, item in enumerate(items):
            where = f"levels[{index}]"
            if not self.keys(item, where, LEVEL_KEYS, ("id", "title")):
                continue
            knockouts = item.get("knockouts")
            if knockouts not in (None, "passed"):
                self.error(
                    line_of(item, "knockouts"), f"{where}.knockouts", "the only value is `passed`"
                )
            level = Level(
                id=self.identifier(item, "id", where),
                title=self.text(item, "title", where, required=True),
                description=self.text(item, "description", where),
                next_steps=self.text(item, "next_steps", where),
                min=self.number(item, "min", where, Fraction(0), 0),
                dimensions=self.level_minimums(item, where, dimension_ids),
                requires=self.level_requires(item, where),
                knockouts_passed=knockouts == "passed",
                commitments=self.level_commitments(item, where),
            )
            if level.min > 100:
                self.error(line_of(item, "min"), f"{where}.min", "must be at most 100")
            if result:
                self.check_level_order(result[-1], level, item, where)
            result.append(level)
        self.check_unique([level.id for level in result], data, "levels", "level id")
        return tuple(result)

    def level_minimums(self, item, where, dimension_ids) -> tuple[tuple[str, Fraction], ...]:
        minimums = []
        for dimension_id in self.mapping(item, "dimensions", where):
            if dimension_id not in dimension_ids:
                self.error(
                    line_of(item, "dimensions"),
                    f"{where}.dimensions",
                    f"unknown dimension {dimension_id!r}",
                )
            number = self.number(item["dimensions"], dimension_id, f"{where}.dimensions", 0, 0)
            minimums.append((dimension_id, number))
        return tuple(minimums)

    def level_requires(self, item, where) -> tuple[tuple[str, Fraction], ...]:
        """Minimum points on single questions; a profile question earns none."""
        requires = []
        for question_id in self.mapping(item, "requires", where):
            question = self.fields.get(question_id)
            if question is None and question_id in self.seen_ids:
                continue  # it failed to load: already reported
            if question is None or question.section == "profile":
                self.error(
                    line_of(item, "requires"),
                    f"{where}.requires",
                    f"unknown question {question_id!r}",
                )
                continue
            number = self.number(item["requires"], question_id, f"{where}.requires", 0, 0)
            if number > question.max_points:
                self.error(
                    line_of(item["requires"], question_id),
                    f"{where}.requires.{question_id}",
                    f"{question_id!r} earns at most {question.max_points} points",
                )
            requires.append((question_id, number))
        return tuple(requires)

    def level_commitments(self, item, where) -> str:
        minimum = item.get("commitments", "")
        if minimum and minimum not in COMMITMENT_MINIMUMS:
            self.error(
                line_of(item, "commitments"),
                f"{where}.commitments",
                f"must be one of {', '.join(COMMITMENT_MINIMUMS)}",
            )
            return ""
        return minimum or ""

    def check_level_order(self, lower: Level, level: Level, item, where):
        """Levels are listed lowest first: each asks at least what the one before asks."""
        if level.min < lower.min:
            self.error(
                line_of(item, "min"),
                f"{where}.min",
                f"levels out of order: {level.min} is below the previous level's {lower.min}",
            )
        lower_minimums = dict(lower.dimensions)
        for dimension_id, minimum in level.dimensions:
            if minimum < lower_minimums.get(dimension_id, 0):
                self.error(
                    line_of(item, "dimensions"),
                    f"{where}.dimensions.{dimension_id}",
                    "levels out of order: below the previous level's minimum",
                )
        if COMMITMENT_RANK[level.commitments] < COMMITMENT_RANK[lower.commitments]:
            self.error(
                line_of(item, "commitments") or item.line,
                f"{where}.commitments",
                "levels out of order: below the previous level's commitments",
            )
        if lower.knockouts_passed and not level.knockouts_passed:
            self.error(
                item.line,
                f"{where}.knockouts",
                "levels out of order: the previous level requires passed knock-outs",
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
    """Every question id in the file: tells a later question from an unknown one."""
    legal, dimensions = data.get("legal"), data.get("dimensions")
    blocks = [data.get("profile"), legal.get("questions") if isinstance(legal, dict) else None]
    if isinstance(dimensions, list):
        blocks += [d.get("questions") for d in dimensions if isinstance(d, dict)]
    return {
        item["id"]
        for block in blocks
        if isinstance(block, list)
        for item in block
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
