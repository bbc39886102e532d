"""score(questionnaire, profile, answers) -> Result.

A pure, deterministic function of its inputs. Exact fractions are used
throughout and only the reported scores are rounded (half up, to whole
percentages), so the same answers always give the same result.

Rules, and why:
- A question hidden by the *profile*, or answered `na`, leaves the
  denominator: it does not apply to this organisation.
- A follow-up hidden by an earlier *answer* earns 0 but its points stay
  possible. The loader proves that a better answer never hides a follow-up
  that counts, so raising any single answer never lowers any score.
- "Don't know" earns 0 and yields a verify task instead of an action.
- A knock-out that is answered with less than its full points (or "don't
  know") is failed; a level that asks for passed knock-outs also needs
  every applicable knock-out answered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from .conditions import UNKNOWN
from .model import CHOICE_TYPES
from .model import DONT_KNOW
from .model import NOT_APPLICABLE
from .model import Action
from .model import Level
from .model import Question
from .model import Questionnaire
from .model import plain_number


class State:
    """Where one question stands for one organisation."""

    HIDDEN_BY_PROFILE = "hidden_by_profile"  # does not apply to this kind of organisation
    HIDDEN_BY_ANSWER = "hidden_by_answer"  # a follow-up an earlier answer did not open
    NOT_APPLICABLE = "not_applicable"  # shown, and answered "does not apply" (`na`)
    UNANSWERED = "unanswered"
    ANSWERED = "answered"
    VISIBLE = frozenset({NOT_APPLICABLE, UNANSWERED, ANSWERED})


class Status:
    """A commitment's status; the values are stored with each submitted result."""

    IN_PLACE = "in_place"
    PARTIAL = "partial"
    NOT_IN_PLACE = "not_in_place"
    NOT_ASSESSED = "not_assessed"  # no question of it applies to this organisation


class AnswerError(ValueError):
    """An answer that the questionnaire cannot accept; names the question."""

    def __init__(self, question_id: str, message: str):
        super().__init__(f"{question_id}: {message}")
        self.question_id = question_id
        self.message = message


# --- Input -------------------------------------------------------------------


def normalize(question: Question, value):
    """Return the canonical form of one answer or raise AnswerError.

    Choices are option values (str), `multiple` a frozenset of values,
    `number` an int or float, `text` a str; `na` and `dont_know` where allowed.
    """
    qid = question.id
    if value == NOT_APPLICABLE and question.allow_na:
        return NOT_APPLICABLE
    if value == DONT_KNOW and question.dont_know:
        return DONT_KNOW
    if question.type in CHOICE_TYPES:
        if not isinstance(value, str) or value not in question.option_by_value:
            raise AnswerError(qid, f"{_short(value)} is not one of its options")
        return value
    if question.type == "multiple":
        if not isinstance(value, list | tuple | frozenset | set) or not all(
            isinstance(v, str) for v in value
        ):
            raise AnswerError(qid, "expects a list of option values")
        chosen = frozenset(value)
        unknown = sorted(chosen - set(question.option_by_value))
        if unknown:
            raise AnswerError(qid, f"{_short(unknown[0])} is not one of its options")
        exclusive = [v for v in chosen if question.option_by_value[v].exclusive]
        if exclusive and len(chosen) > 1:
            raise AnswerError(qid, f"{exclusive[0]!r} cannot be combined with other options")
        return chosen
    if question.type == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise AnswerError(qid, f"expects a number, not {_short(value)}")
        if question.min is not None and value < question.min:
            raise AnswerError(qid, f"must be at least {plain_number(question.min)}")
        if question.max is not None and value > question.max:
            raise AnswerError(qid, f"must be at most {plain_number(question.max)}")
        return value
    if not isinstance(value, str):
        raise AnswerError(qid, f"expects text, not {_short(value)}")
    if len(value) > question.max_length:
        raise AnswerError(qid, f"is longer than {question.max_length} characters")
    if "\x00" in value:
        raise AnswerError(qid, "must not contain NUL characters")
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def normalize_all(questionnaire: Questionnaire, values: Mapping, profile: bool) -> dict:
    """Normalize a mapping of answers; unknown ids are errors."""
    fields = questionnaire.profile if profile else questionnaire.questions
    by_id = {q.id: q for q in fields}
    clean = {}
    for key, value in values.items():
        question = by_id.get(key)
        if question is None:
            kind = "profile field" if profile else "question"
            raise AnswerError(str(key), f"unknown {kind} in {questionnaire.id}")
        clean[key] = normalize(question, value)
    return clean


# --- Output ------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    question: Question
    state: str
    value: object = None
    earned: int = 0  # weighted points, in units of 1/questionnaire scale
    possible: int = 0

    @property
    def visible(self) -> bool:
        return self.state in State.VISIBLE

    @property
    def dont_know(self) -> bool:
        return self.value == DONT_KNOW


@dataclass(frozen=True)
class DimensionScore:
    id: str
    score: int | None
    ratio: Fraction | None
    earned: int
    possible: int


@dataclass(frozen=True)
class TriggeredAction:
    action: Action
    question: Question
    answer: object
    knockout: bool
    gain: Fraction  # overall percentage points the question could still add


@dataclass(frozen=True)
class CommitmentResult:
    id: str
    score: int | None
    status: str


@dataclass(frozen=True)
class EvidenceItem:
    question: Question
    ready: bool  # the answer says the practice exists, so the evidence should too


@dataclass(frozen=True)
class Result:
    questionnaire: Questionnaire
    overall: int | None
    level: Level
    dimensions: dict[str, DimensionScore]
    knockouts_failed: tuple[str, ...]
    knockouts_pending: tuple[str, ...]
    actions: tuple[TriggeredAction, ...]
    verify: tuple[Question, ...]
    unanswered: tuple[str, ...]
    outcomes: dict[str, Outcome]
    commitments: dict[str, CommitmentResult]
    evidence: tuple[EvidenceItem, ...]

    @property
    def dont_know_share(self) -> Fraction:
        answered = [o for o in self.outcomes.values() if o.state == State.ANSWERED and o.possible]
        if not answered:
            return Fraction(0)
        return Fraction(sum(1 for o in answered if o.dont_know), len(answered))

    def to_json(self, action_text=lambda action: action.text) -> dict:
        """The `questionnaire score` contract of DESIGN.md."""
        return {
            "overall": self.overall,
            "level": self.level.id,
            "dimensions": {d: s.score for d, s in self.dimensions.items()},
            "knockouts_failed": list(self.knockouts_failed),
            "actions": [
                {
                    "id": item.action.id,
                    "priority": item.action.priority,
                    "text": action_text(item.action),
                }
                for item in self.actions
            ],
            "unanswered": list(self.unanswered),
        }


def percent(ratio: Fraction) -> int:
    """Round a ratio to a whole percentage, half up (Python's round() is half-even)."""
    return math.floor(ratio * 100 + Fraction(1, 2))


# --- Scoring -----------------------------------------------------------------


def visible_profile(questionnaire: Questionnaire, profile: Mapping) -> tuple[set, dict]:
    """The profile fields shown for these values, and the values conditions may read."""
    shown, known = set(), {}
    for field in questionnaire.profile:
        if field.when is None or field.when.evaluate(known):
            shown.add(field.id)
            if field.id in profile:
                known[field.id] = profile[field.id]
    return shown, known


def walk(questionnaire: Questionnaire, profile: Mapping, answers: Mapping) -> dict[str, Outcome]:
    """Decide, question by question, whether it applies, is shown and what it earns.

    Inputs must be normalized (see `normalize_all`)."""
    _, known = visible_profile(questionnaire, profile)
    outcomes: dict[str, Outcome] = {}
    applicable: dict[str, object] = dict(known)  # answers stand as UNKNOWN here
    for question in questionnaire.questions:
        outcome = _outcome(question, known, applicable, answers)
        outcomes[question.id] = outcome
        if outcome.state != State.HIDDEN_BY_PROFILE:
            applicable[question.id] = UNKNOWN
        if outcome.state in (State.ANSWERED, State.NOT_APPLICABLE):
            known[question.id] = outcome.value
    return outcomes


def score(questionnaire: Questionnaire, profile: Mapping, answers: Mapping) -> Result:
    """Score answers for a profile. Raises AnswerError on invalid input."""
    profile = normalize_all(questionnaire, profile, profile=True)
    answers = normalize_all(questionnaire, answers, profile=False)
    outcomes = walk(questionnaire, profile, answers)

    dimensions = {d.id: _dimension_score(d, outcomes) for d in questionnaire.dimensions}
    overall_ratio = _overall(questionnaire, dimensions)
    overall = percent(overall_ratio) if overall_ratio is not None else None

    knockouts = [o for o in outcomes.values() if o.question.knockout and o.visible]
    failed = tuple(
        o.question.id for o in knockouts if o.state == State.ANSWERED and o.earned < o.possible
    )
    pending = tuple(o.question.id for o in knockouts if o.state == State.UNANSWERED)

    return Result(
        questionnaire=questionnaire,
        overall=overall,
        level=_level(questionnaire, overall, dimensions, outcomes, bool(failed or pending)),
        dimensions=dimensions,
        knockouts_failed=failed,
        knockouts_pending=pending,
        actions=_actions(questionnaire, outcomes, dimensions),
        verify=tuple(o.question for o in outcomes.values() if o.visible and o.dont_know),
        unanswered=tuple(
            o.question.id
            for o in outcomes.values()
            if o.state == State.UNANSWERED and o.question.required
        ),
        outcomes=outcomes,
        commitments=_commitments(questionnaire, outcomes),
        evidence=tuple(
            EvidenceItem(o.question, o.state == State.ANSWERED and o.earned > 0)
            for o in outcomes.values()
            if o.question.evidence and o.state in (State.ANSWERED, State.UNANSWERED)
        ),
    )


def _outcome(question: Question, known, applicable, answers) -> Outcome:
    possible = question.possible_units
    if question.when is not None:
        if question.when.evaluate_partially(applicable) is False:
            return Outcome(question, State.HIDDEN_BY_PROFILE)
        if not question.when.evaluate(known):
            return Outcome(question, State.HIDDEN_BY_ANSWER, possible=possible)
    if question.id not in answers:
        return Outcome(question, State.UNANSWERED, possible=possible)
    value = answers[question.id]
    if value == NOT_APPLICABLE:
        return Outcome(question, State.NOT_APPLICABLE, value)
    return Outcome(question, State.ANSWERED, value, question.units(value), possible)


def _dimension_score(dimension, outcomes) -> DimensionScore:
    earned = sum(outcomes[q.id].earned for q in dimension.questions)
    possible = sum(outcomes[q.id].possible for q in dimension.questions)
    if not possible:
        return DimensionScore(dimension.id, None, None, earned, possible)
    ratio = Fraction(earned, possible)
    return DimensionScore(dimension.id, percent(ratio), ratio, earned, possible)


def _overall(questionnaire, dimensions) -> Fraction | None:
    weighted = [
        (d.weight, dimensions[d.id].ratio)
        for d in questionnaire.dimensions
        if d.weight > 0 and dimensions[d.id].ratio is not None
    ]
    total = sum((w for w, _ in weighted), Fraction(0))
    if not total:
        return None
    return sum((w * r for w, r in weighted), Fraction(0)) / total


def _level(questionnaire, overall, dimensions, outcomes, knockouts_open) -> Level:
    """The highest level whose every condition holds; the first level is the floor."""
    for level in reversed(questionnaire.levels[1:]):
        if level.knockouts_passed and knockouts_open:
            continue
        if (overall or 0) < level.min:
            continue
        if any(
            dimensions[d].score is not None and dimensions[d].score < minimum
            for d, minimum in level.dimensions
        ):
            continue
        if any(not _requirement_met(outcomes[q], minimum) for q, minimum in level.requires):
            continue
        return level
    return questionnaire.levels[0]


def _requirement_met(outcome: Outcome, minimum: Fraction) -> bool:
    if outcome.state in (State.HIDDEN_BY_PROFILE, State.NOT_APPLICABLE):
        return True
    if outcome.state != State.ANSWERED:
        return False
    return outcome.question.points(outcome.value) >= minimum


def _triggers(action: Action, question: Question, value) -> bool:
    if value == DONT_KNOW:
        return False  # a verify task instead
    if question.type == "multiple":
        if action.on and value & set(action.on):
            return True
        if action.missing and not set(action.missing) <= value:
            return True
    elif action.on and value in action.on:
        return True
    return action.below is not None and question.points(value) < action.below


def _actions(questionnaire, outcomes, dimensions) -> tuple[TriggeredAction, ...]:
    total_weight = sum((d.weight for d in questionnaire.dimensions if d.weight > 0), Fraction(0))
    triggered = []
    for index, question in enumerate(questionnaire.questions):
        outcome = outcomes[question.id]
        if outcome.state != State.ANSWERED:
            continue
        fired = [
            (order, action)
            for order, action in enumerate(question.actions)
            if _triggers(action, question, outcome.value)
        ]
        if not fired:
            continue
        dimension = questionnaire.dimension_of[question.id]
        score = dimensions[dimension.id]
        gain = Fraction(0)
        if score.possible and total_weight:
            share = Fraction(outcome.possible - outcome.earned, score.possible)
            gain = 100 * share * dimension.weight / total_weight
        knockout = question.knockout and outcome.earned < outcome.possible
        for order, action in fired:
            item = TriggeredAction(action, question, outcome.value, knockout, gain)
            triggered.append(((not knockout, action.priority_rank, -gain, index, order), item))
    return tuple(item for _, item in sorted(triggered, key=lambda pair: pair[0]))


def _commitments(questionnaire, outcomes) -> dict[str, CommitmentResult]:
    in_place, partial = questionnaire.commitment_thresholds
    result = {}
    for commitment in questionnaire.commitments:
        tagged = [
            o for o in outcomes.values()
            if commitment.id in o.question.commitments and o.possible
        ]  # fmt: skip
        possible = sum(o.possible for o in tagged)
        if not possible:
            result[commitment.id] = CommitmentResult(commitment.id, None, Status.NOT_ASSESSED)
            continue
        value = percent(Fraction(sum(o.earned for o in tagged), possible))
        status = (
            Status.IN_PLACE
            if value >= in_place
            else Status.PARTIAL
            if value >= partial
            else Status.NOT_IN_PLACE
        )
        result[commitment.id] = CommitmentResult(commitment.id, value, status)
    return result
