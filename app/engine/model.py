"""The questionnaire model: immutable objects built once by the loader."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from fractions import Fraction
from functools import cached_property

from .conditions import Condition

NOT_APPLICABLE = "na"  # the answer "does not apply to us"
DONT_KNOW = "dont_know"
YES = "yes"
NO = "no"

CHOICE_TYPES = ("single", "scale", "yesno")
QUESTION_TYPES = ("single", "multiple", "scale", "yesno", "number", "text")
PROFILE_TYPES = ("single", "multiple", "number", "text")
PRIORITIES = ("high", "medium", "low")
HORIZONS = (30, 90, 180)
PROFILE = "profile"  # the section id of the profile, and the `section` of its fields
REWORDED = "reworded"  # the `wording` of a question asked in its other form
BASES = ("law", "standard")  # a must-have rests on the law or on a minimum standard (ILO, IOM)
COMMITMENT_MINIMUMS = ("partial", "in_place")


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    points: Fraction = Fraction(0)
    exclusive: bool = False  # for `multiple`: cannot be combined with other options
    wording: str = ""  # REWORDED for a label of a reworded question


@dataclass(frozen=True)
class Band:
    """For `number` questions: values from `min` up earn `points`."""

    min: Fraction
    points: Fraction


@dataclass(frozen=True)
class Resource:
    title: str
    url: str
    languages: tuple[str, ...] = ()  # the languages of the page, e.g. ("es", "ht")


@dataclass(frozen=True)
class Action:
    id: str
    question_id: str
    text: str
    priority: str
    horizon: int | None
    on: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    below: Fraction | None = None
    resources: tuple[Resource, ...] = ()
    when: Condition | None = None  # offered only to organisations this holds for (e.g. size)
    wording: str = ""  # REWORDED for the text of a reworded question's action

    @property
    def priority_rank(self) -> int:
        return PRIORITIES.index(self.priority)


@dataclass(frozen=True)
class Rewording:
    """The form a question takes when `when` holds for the profile: the same answers
    and points, asked in words that fit (e.g. readiness, for an organisation with no
    foreign staff today). Parts left empty are not shown."""

    when: Condition
    text: str
    help: str = ""
    evidence: str = ""
    option_labels: tuple[tuple[str, str], ...] = ()  # (option value, label)
    action_texts: tuple[tuple[str, str], ...] = ()  # (action id, text)


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    line: int = 0
    help: str = ""
    why: str = ""  # why the practice matters, in a sentence or two
    source: str = ""
    evidence: str = ""
    weight: Fraction = Fraction(1)
    options: tuple[Option, ...] = ()
    bands: tuple[Band, ...] = ()
    min: Fraction | None = None
    max: Fraction | None = None
    max_length: int = 2000
    unit: str = ""
    allow_na: bool = False
    dont_know: bool = False
    knockout: bool = False
    required: bool = True
    when: Condition | None = None
    commitments: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    cap: Fraction | None = None  # `multiple`: the most points the question can earn
    section: str = ""
    calculator: str = ""  # a helper the journey shows beside the question (see calculators.py)
    basis: str = "law"  # of a must-have: the law, or a minimum standard (BASES)
    hidden_because: str = ""  # why the profile may hide it (the law that lifts the duty)
    identity: bool = False  # a profile field that says what the organisation is
    evidence_on: tuple[str, ...] = ()  # the answers its evidence is asked for (all if empty)
    reworded: Rewording | None = None
    wording: str = ""  # REWORDED when this is the other form of the question
    # Every weighted point of the questionnaire times `scale` is a whole number, so
    # scoring adds integers and makes a fraction only once per score.
    scale: int = 1

    @cached_property
    def option_by_value(self) -> dict[str, Option]:
        return {option.value: option for option in self.options}

    @cached_property
    def max_points(self) -> Fraction:
        if self.type in CHOICE_TYPES:
            return max((option.points for option in self.options), default=Fraction(0))
        if self.type == "multiple":
            total = sum((o.points for o in self.options if not o.exclusive), Fraction(0))
            best = max([total] + [o.points for o in self.options if o.exclusive])
            return min(best, self.cap) if self.cap is not None else best
        if self.type == "number":
            return max((band.points for band in self.bands), default=Fraction(0))
        return Fraction(0)

    @property
    def scored(self) -> bool:
        return self.max_points > 0 and self.weight > 0

    def points(self, value) -> Fraction:
        """Points earned by a valid, applicable answer (not `na`)."""
        if value == DONT_KNOW:
            return Fraction(0)
        if self.type in CHOICE_TYPES:
            return self.option_by_value[value].points
        if self.type == "multiple":
            total = sum((self.option_by_value[v].points for v in value), Fraction(0))
            return min(total, self.max_points)
        if self.type == "number":
            earned = Fraction(0)
            for band in self.bands:  # bands are sorted by `min`
                if Fraction(value) >= band.min:
                    earned = band.points
            return earned
        return Fraction(0)

    @cached_property
    def possible_units(self) -> int:
        return int(self.weight * self.max_points * self.scale)

    @cached_property
    def _option_units(self) -> dict[str, int]:
        return {o.value: int(self.weight * o.points * self.scale) for o in self.options}

    def units(self, value) -> int:
        """Weighted points earned by a valid, applicable answer, in units of 1/scale."""
        if value == DONT_KNOW:
            return 0
        if self.type in CHOICE_TYPES:
            return self._option_units[value]
        if self.type == "multiple":
            return min(sum(self._option_units[v] for v in value), self.possible_units)
        return int(self.weight * self.points(value) * self.scale)

    @cached_property
    def reworded_form(self) -> Question:
        """This question in its other form: same id, answers and points. Built once:
        every journey of an organisation it fits asks it."""
        rewording = self.reworded
        labels = dict(rewording.option_labels)
        texts = dict(rewording.action_texts)
        return replace(
            self,
            text=rewording.text,
            help=rewording.help,
            evidence=rewording.evidence,
            options=tuple(
                replace(o, label=labels[o.value], wording=REWORDED) if o.value in labels else o
                for o in self.options
            ),
            actions=tuple(
                replace(a, text=texts[a.id], wording=REWORDED) if a.id in texts else a
                for a in self.actions
            ),
            wording=REWORDED,
        )

    def best_answer(self):
        """An answer earning the question's maximum points (for `export`)."""
        if self.type in CHOICE_TYPES:
            return max(self.options, key=lambda o: o.points).value
        if self.type == "multiple":
            combined = [o.value for o in self.options if not o.exclusive and o.points > 0]
            candidates = [combined] + [[o.value] for o in self.options if o.exclusive]
            return max(candidates, key=self.points)
        if self.type == "number":
            if not self.bands:
                return plain_number(self.min if self.min is not None else 0)
            return plain_number(max(self.bands, key=lambda b: (b.points, -b.min)).min)
        return ""

    def worst_answer(self):
        """An answer earning the question's minimum points (for `export`)."""
        if self.type in CHOICE_TYPES:
            return min(self.options, key=lambda o: o.points).value
        if self.type == "multiple":
            zero = [o.value for o in self.options if o.exclusive and o.points == 0]
            return zero[:1]
        if self.type == "number":
            low = self.min if self.min is not None else Fraction(0)
            if self.bands and self.bands[0].min <= low:
                worst = min(self.bands, key=lambda b: (b.points, b.min))
                return plain_number(max(worst.min, low))
            return plain_number(low)
        return ""


def plain_number(number) -> int | float:
    """Show a Fraction as an int when it is whole, else as a float."""
    number = Fraction(number)
    return int(number) if number.denominator == 1 else float(number)


@dataclass(frozen=True)
class Dimension:
    id: str
    title: str
    description: str = ""
    weight: Fraction = Fraction(1)
    questions: tuple[Question, ...] = ()
    legal: bool = False


@dataclass(frozen=True)
class Level:
    id: str
    title: str
    description: str = ""
    next_steps: str = ""
    min: Fraction = Fraction(0)
    dimensions: tuple[tuple[str, Fraction], ...] = ()
    requires: tuple[tuple[str, Fraction], ...] = ()
    knockouts_passed: bool = False
    commitments: str = ""  # every commitment at least this status (COMMITMENT_MINIMUMS)


@dataclass(frozen=True)
class Check:
    """A cross-field rule answers must keep, e.g. foreign staff <= total staff."""

    id: str
    when: Condition  # must hold once every field it names is answered
    message: str
    questions: tuple[str, ...]  # where the message is shown
    line: int = 0


@dataclass(frozen=True)
class Replacement:
    """A question of this version whose answers start from another question of the
    version it replaces (renamed or split out), or whose options were renamed."""

    question_id: str
    source_id: str  # the question in the replaced version
    options: tuple[tuple[str, str, int], ...] = ()  # (this option, the old option, line)
    line: int = 0


@dataclass(frozen=True)
class Replaces:
    """What a re-assessment from `version` carries over. Questions not named keep the
    answers of the question with the same id, where those are still valid."""

    version: int
    questions: tuple[Replacement, ...] = ()
    line: int = 0

    def rule(self, question_id: str) -> Replacement | None:
        return next((r for r in self.questions if r.question_id == question_id), None)


@dataclass(frozen=True)
class Commitment:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Section:
    """One page of the journey: the profile, the legal block or (part of) a dimension."""

    id: str
    title: str
    questions: tuple[Question, ...]
    dimension: Dimension | None = None
    part: int = 1
    parts: int = 1

    @cached_property
    def question_ids(self) -> frozenset[str]:
        return frozenset(q.id for q in self.questions)


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    language: str
    title: str
    intro: str = ""
    disclaimer: str = ""
    estimated_minutes: int = 0
    profile: tuple[Question, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    levels: tuple[Level, ...] = ()
    commitments: tuple[Commitment, ...] = ()
    commitment_thresholds: tuple[Fraction, Fraction] = (Fraction(75), Fraction(25))
    checks: tuple[Check, ...] = ()
    replaces: Replaces | None = None
    path: str = ""
    sha256: str = ""
    page_size: int = field(default=10)

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        """Every answerable question after the profile, in order."""
        return tuple(q for dimension in self.dimensions for q in dimension.questions)

    @cached_property
    def profile_conditions(self) -> tuple[tuple[Condition, tuple[Question, ...]], ...]:
        """The questions whose condition reads the profile alone, grouped by the text of
        that condition (many share one): the profile alone shows or hides them."""
        profile_ids = {field.id for field in self.profile}
        return _by_condition(
            (q.when, q)
            for q in self.questions
            if q.when is not None and q.when.names <= profile_ids
        )

    @cached_property
    def conditional_questions(self) -> tuple[Question, ...]:
        """The questions whose visibility is walked in order (scoring.hidden_questions):
        those whose condition reads an answer, and the questions such a condition reads."""
        profile_ids = {field.id for field in self.profile}
        on_answers = {
            q.id: q.when.names
            for q in self.questions
            if q.when is not None and not q.when.names <= profile_ids
        }
        read = {name for names in on_answers.values() for name in names}
        return tuple(q for q in self.questions if q.id in on_answers or q.id in read)

    @cached_property
    def rewordings(self) -> tuple[tuple[Condition, tuple[Question, ...]], ...]:
        """The questions with a `reworded` form, grouped by the text of the condition
        that asks them so (many share one)."""
        return _by_condition((q.reworded.when, q) for q in self.questions if q.reworded is not None)

    @cached_property
    def fields(self) -> dict[str, Question]:
        """Profile fields and questions by id."""
        return {q.id: q for q in (*self.profile, *self.questions)}

    @cached_property
    def dimension_of(self) -> dict[str, Dimension]:
        return {q.id: d for d in self.dimensions for q in d.questions}

    @cached_property
    def dimension_by_id(self) -> dict[str, Dimension]:
        return {d.id: d for d in self.dimensions}

    @cached_property
    def level_by_id(self) -> dict[str, Level]:
        return {level.id: level for level in self.levels}

    @cached_property
    def sections(self) -> tuple[Section, ...]:
        """The pages of the journey: profile, then each dimension in parts of at most
        `page_size` questions."""
        sections = [Section(PROFILE, "", self.profile)]
        for dimension in self.dimensions:
            questions = dimension.questions
            parts = max(1, -(-len(questions) // self.page_size))
            size = -(-len(questions) // parts)  # balanced parts: 12 -> 6 + 6, not 10 + 2
            for index in range(parts):
                chunk = questions[index * size : (index + 1) * size]
                section_id = dimension.id if parts == 1 else f"{dimension.id}-{index + 1}"
                sections.append(
                    Section(section_id, dimension.title, chunk, dimension, index + 1, parts)
                )
        return tuple(sections)

    @cached_property
    def section_of(self) -> dict[str, Section]:
        """The page each question is on."""
        return {q.id: section for section in self.sections for q in section.questions}

    @cached_property
    def section_by_id(self) -> dict[str, Section]:
        return {section.id: section for section in self.sections}


def _by_condition(pairs) -> tuple[tuple[Condition, tuple[Question, ...]], ...]:
    """(condition, question) pairs grouped by the condition's text, in order: one
    evaluation serves every question of a group."""
    groups: dict[str, tuple[Condition, list[Question]]] = {}
    for when, question in pairs:
        groups.setdefault(when.source, (when, []))[1].append(question)
    return tuple((when, tuple(questions)) for when, questions in groups.values())
