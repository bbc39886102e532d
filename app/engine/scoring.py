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
from .model import HORIZONS
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


def source_text(item, part: str = "text") -> str:
    """A questionnaire text as written (the source language)."""
    return item.text if isinstance(item, Action) else getattr(item, part)


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
    for_next_level: bool = False  # it works on a requirement of the next level


@dataclass(frozen=True)
class CommitmentResult:
    id: str
    score: int | None
    status: str
    blocked: bool = False  # in place, but a must-have is not met: it does not count yet


class Evidence:
    """When to gather the evidence of a practice."""

    GATHER_NOW = "gather_now"  # the best answer: the practice runs, its proof should exist
    ONCE_RUNNING = "once_running"  # decided or partly applied: what it will need
    AFTER_ACTING = "after_acting"  # not in place yet


@dataclass(frozen=True)
class EvidenceItem:
    question: Question
    when: str  # an Evidence value

    @property
    def ready(self) -> bool:
        return self.when == Evidence.GATHER_NOW


class Need:
    """The kinds of requirement a readiness level sets."""

    MUST_HAVE = "must_have"  # a legal requirement or a minimum standard, met
    OVERALL = "overall"  # the overall score, at least
    DIMENSION = "dimension"  # an area's score, at least
    PRACTICE = "practice"  # a named question, at least this many points
    COMMITMENT = "commitment"  # a commitment of the Carta, at least partly in place


@dataclass(frozen=True)
class Requirement:
    kind: str  # a Need
    id: str  # the question, dimension or commitment ("" for the overall score)
    met: bool
    minimum: object = None  # a percentage, points, or a commitment status
    current: object = None  # the organisation's figure, answer or status


@dataclass(frozen=True)
class LevelCheck:
    """One rung of the ladder: a level and each of its requirements, met or not."""

    level: Level
    requirements: tuple[Requirement, ...]

    @property
    def met(self) -> bool:
        return all(r.met for r in self.requirements)

    @property
    def unmet(self) -> tuple[Requirement, ...]:
        return tuple(r for r in self.requirements if not r.met)


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
    ladder: tuple[LevelCheck, ...] = ()

    @property
    def next_level(self) -> LevelCheck | None:
        """The first level above the one reached, with what it still needs."""
        index = self.questionnaire.levels.index(self.level)
        above = [
            check for check in self.ladder if check.level in self.questionnaire.levels[index + 1 :]
        ]
        return above[0] if above else None

    @property
    def can_apply(self) -> bool:
        """No must-have is failed or pending."""
        return not (self.knockouts_failed or self.knockouts_pending)

    @property
    def dont_know_share(self) -> Fraction:
        answered = [o for o in self.outcomes.values() if o.state == State.ANSWERED and o.possible]
        if not answered:
            return Fraction(0)
        return Fraction(sum(1 for o in answered if o.dont_know), len(answered))

    def to_json(self, text=source_text, describe=lambda requirement: requirement.id) -> dict:
        """The `questionnaire score` contract of DESIGN.md. `text(item, part)` gives a
        questionnaire text in the wanted language, `describe(requirement)` says a
        requirement in words."""
        next_level = self.next_level
        return {
            "overall": self.overall,
            "level": self.level.id,
            "dimensions": {d: s.score for d, s in self.dimensions.items()},
            "knockouts_failed": list(self.knockouts_failed),
            "actions": [
                {"id": item.action.id, "priority": item.action.priority, "text": text(item.action)}
                for item in self.actions
            ],
            "unanswered": list(self.unanswered),
            "next_level": None
            if next_level is None
            else {
                "id": next_level.level.id,
                "unmet": [
                    {"kind": r.kind, "id": r.id, "text": describe(r)} for r in next_level.unmet
                ],
            },
            "commitments": {
                c: {"score": r.score, "status": r.status, "blocked": r.blocked}
                for c, r in self.commitments.items()
            },
            "evidence": [
                {"id": e.question.id, "when": e.when, "text": text(e.question, "evidence")}
                for e in self.evidence
            ],
            "verify": [q.id for q in self.verify],
        }


def top_actions(
    plan: tuple[TriggeredAction, ...], fewest: int = 5, most: int = 7
) -> tuple[TriggeredAction, ...]:
    """The actions a result opens with: the head of the plan (`Result.actions`, already
    in the order an owner would act: must-haves, then the next level, then the rest).
    Every must-have and next-level action up to `most`, and at least `fewest` when the
    plan has that many, so the page opens with a short list and the rest waits."""
    pressing = sum(1 for item in plan if item.knockout or item.for_next_level)
    return plan[: max(fewest, min(pressing, most))]


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


def hidden_questions(
    questionnaire: Questionnaire, known_profile: Mapping, answers: Mapping
) -> dict[str, str]:
    """The questions a condition hides for these values, each with its state
    (HIDDEN_BY_PROFILE or HIDDEN_BY_ANSWER); every other question is shown.

    A condition on the profile alone is evaluated once for all the questions that share
    it; the rest are walked in order (`Questionnaire.conditional_questions`: those whose
    condition reads an answer and those such a condition reads, as a condition reads
    nothing else). A journey's visibility costs per condition, not per question."""
    hidden = {}
    for when, questions in questionnaire.profile_conditions:
        if not when.evaluate(known_profile):
            hidden.update(dict.fromkeys([q.id for q in questions], State.HIDDEN_BY_PROFILE))
    known = dict(known_profile)  # the shown answers conditions may read, so far
    applicable = dict(known_profile)  # answers stand as UNKNOWN here
    for question in questionnaire.conditional_questions:
        state = hidden.get(question.id)
        if state is None and question.when is not None:
            on_profile = question.when.evaluate_partially(applicable)
            if on_profile is False:
                state = State.HIDDEN_BY_PROFILE
            # True with the answers unknown is true whatever they are (Kleene's logic).
            elif on_profile is UNKNOWN and not question.when.evaluate(known):
                state = State.HIDDEN_BY_ANSWER
            if state is not None:
                hidden[question.id] = state
        if state is None and question.id in answers:
            known[question.id] = answers[question.id]
        if state != State.HIDDEN_BY_PROFILE:
            applicable[question.id] = UNKNOWN
    return hidden


def walk(questionnaire: Questionnaire, profile: Mapping, answers: Mapping) -> dict[str, Outcome]:
    """Decide, question by question, whether it applies, is shown and what it earns.

    Inputs must be normalized (see `normalize_all`)."""
    _, known = visible_profile(questionnaire, profile)
    return outcomes_of(questionnaire, hidden_questions(questionnaire, known, answers), answers)


def outcomes_of(questionnaire: Questionnaire, hidden: Mapping, answers: Mapping) -> dict:
    """Each question's Outcome, given the questions hidden (`hidden_questions`)."""
    return {q.id: _outcome(q, hidden.get(q.id), answers) for q in questionnaire.questions}


def score(questionnaire: Questionnaire, profile: Mapping, answers: Mapping) -> Result:
    """Score answers for a profile. Raises AnswerError on invalid input."""
    profile = normalize_all(questionnaire, profile, profile=True)
    answers = normalize_all(questionnaire, answers, profile=False)
    outcomes = walk(questionnaire, profile, answers)
    _, known = visible_profile(questionnaire, profile)
    asked = asked_forms(questionnaire, known)
    known |= {q: o.value for q, o in outcomes.items() if o.state in ANSWER_STATES}

    dimensions = {d.id: _dimension_score(d, outcomes) for d in questionnaire.dimensions}
    overall_ratio = _overall(questionnaire, dimensions)
    overall = percent(overall_ratio) if overall_ratio is not None else None
    knockouts = [o for o in outcomes.values() if o.question.knockout and o.visible]
    failed = tuple(o.question.id for o in knockouts if not _passed(o) and o.state in ANSWER_STATES)
    pending = tuple(o.question.id for o in knockouts if o.state == State.UNANSWERED)
    commitments = _commitments(questionnaire, outcomes, must_haves_open=bool(failed or pending))
    ladder = _ladder(questionnaire, overall, dimensions, outcomes, commitments)
    level = next((c.level for c in reversed(ladder) if c.met), questionnaire.levels[0])
    above = [
        c for c in ladder if questionnaire.levels.index(c.level) > questionnaire.levels.index(level)
    ]
    return Result(
        questionnaire=questionnaire,
        overall=overall,
        level=level,
        dimensions=dimensions,
        knockouts_failed=failed,
        knockouts_pending=pending,
        actions=_actions(questionnaire, outcomes, dimensions, known, asked, above[:1]),
        verify=tuple(asked[o.question.id] for o in outcomes.values() if o.visible and o.dont_know),
        unanswered=tuple(
            o.question.id
            for o in outcomes.values()
            if o.state == State.UNANSWERED and o.question.required
        ),
        outcomes=outcomes,
        commitments=commitments,
        evidence=_evidence(outcomes, asked),
        ladder=ladder,
    )


ANSWER_STATES = (State.ANSWERED, State.NOT_APPLICABLE)


def asked_forms(questionnaire: Questionnaire, known_profile: Mapping) -> dict[str, Question]:
    """Each question in the form it is asked of this profile (`reworded_forms`)."""
    reworded = reworded_forms(questionnaire, known_profile)
    return {q.id: reworded.get(q.id, q) for q in questionnaire.questions}


def reworded_forms(questionnaire: Questionnaire, known_profile: Mapping) -> dict[str, Question]:
    """The questions asked of this profile in their `reworded` form (where that form's
    condition holds): the texts of their actions and evidence follow. The others are
    asked as written."""
    return {
        q.id: q.reworded_form
        for when, questions in questionnaire.rewordings
        if when.evaluate(known_profile)
        for q in questions
    }


def _passed(outcome: Outcome) -> bool:
    """A must-have is met when it does not apply or earns its full points."""
    if outcome.state in (State.HIDDEN_BY_PROFILE, State.NOT_APPLICABLE):
        return True
    return outcome.state == State.ANSWERED and outcome.earned == outcome.possible


def _evidence(outcomes, asked) -> tuple[EvidenceItem, ...]:
    items = []
    for outcome in outcomes.values():
        question = outcome.question
        if not question.evidence or outcome.state not in (State.ANSWERED, State.UNANSWERED):
            continue
        if question.evidence_on and outcome.value not in question.evidence_on:
            continue  # e.g. no proof of fines for an organisation that has none
        if outcome.state == State.ANSWERED and outcome.earned == outcome.possible:
            when = Evidence.GATHER_NOW
        elif outcome.state == State.ANSWERED and outcome.earned > 0:
            when = Evidence.ONCE_RUNNING
        else:
            when = Evidence.AFTER_ACTING
        items.append(EvidenceItem(asked[question.id], when))
    return tuple(items)


def _outcome(question: Question, hidden: str | None, answers) -> Outcome:
    if hidden == State.HIDDEN_BY_PROFILE:
        return Outcome(question, hidden)
    possible = question.possible_units
    if hidden == State.HIDDEN_BY_ANSWER:
        return Outcome(question, hidden, possible=possible)
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


def _ladder(questionnaire, overall, dimensions, outcomes, commitments) -> tuple[LevelCheck, ...]:
    """Every level above the floor with each requirement it sets, met or not. The
    organisation's level is the highest whose requirements are all met."""
    must_haves = [o for o in outcomes.values() if o.question.knockout and o.visible]
    checks = []
    for level in questionnaire.levels[1:]:
        needs = []
        if level.knockouts_passed:
            needs += [
                Requirement(Need.MUST_HAVE, o.question.id, _passed(o), None, o.value)
                for o in must_haves
            ]
        needs.append(Requirement(Need.OVERALL, "", (overall or 0) >= level.min, level.min, overall))
        for dimension_id, minimum in level.dimensions:
            figure = dimensions[dimension_id].score
            met = figure is None or figure >= minimum
            needs.append(Requirement(Need.DIMENSION, dimension_id, met, minimum, figure))
        for question_id, minimum in level.requires:
            outcome = outcomes[question_id]
            met = _requirement_met(outcome, minimum)
            needs.append(Requirement(Need.PRACTICE, question_id, met, minimum, outcome.value))
        if level.commitments:
            allowed = COMMITMENT_STATUSES[level.commitments]
            needs += [
                Requirement(Need.COMMITMENT, c, r.status in allowed, level.commitments, r.status)
                for c, r in commitments.items()
            ]
        checks.append(LevelCheck(level, tuple(needs)))
    return tuple(checks)


COMMITMENT_STATUSES = {
    "partial": (Status.PARTIAL, Status.IN_PLACE),
    "in_place": (Status.IN_PLACE,),
}


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


def _actions(questionnaire, outcomes, dimensions, known, asked, next_levels):
    """Triggered actions in the order an owner would act: must-haves first, soonest
    first; then what the next level needs; then the rest. Both by priority (as the plan
    labels them), then by what they would add."""
    serves = _next_level_targets(questionnaire, next_levels)
    total_weight = sum((d.weight for d in questionnaire.dimensions if d.weight > 0), Fraction(0))
    triggered = []
    for index, question in enumerate(questionnaire.questions):
        outcome = outcomes[question.id]
        if outcome.state != State.ANSWERED:
            continue
        form = asked[question.id]
        fired = [
            (order, action)
            for order, action in enumerate(form.actions)
            if _triggers(action, question, outcome.value)
            and (action.when is None or action.when.evaluate(known))
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
        needed = not knockout and bool(
            serves & ({question.id, dimension.id} | set(question.commitments))
        )
        for order, action in fired:
            item = TriggeredAction(action, form, outcome.value, knockout, gain, needed)
            rank = action.priority_rank
            if knockout:
                key = (0, action.horizon or max(HORIZONS), rank, index, order)
            else:
                key = (1 if needed else 2, rank, -gain, index, order)
            triggered.append((key, item))
    return tuple(item for _, item in sorted(triggered, key=lambda pair: pair[0]))


def _next_level_targets(questionnaire, next_levels) -> set[str]:
    """The questions, areas and commitments the next level still asks more of."""
    targets = set()
    for check in next_levels:
        for requirement in check.unmet:
            if requirement.kind in (Need.DIMENSION, Need.PRACTICE, Need.COMMITMENT):
                targets.add(requirement.id)
    return targets


def _commitments(questionnaire, outcomes, must_haves_open: bool) -> dict[str, CommitmentResult]:
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
        blocked = status == Status.IN_PLACE and must_haves_open
        result[commitment.id] = CommitmentResult(commitment.id, value, status, blocked)
    return result
