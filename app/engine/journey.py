"""What an organisation sees and where it goes next: the steps and questions its
answers make visible. Pure: the web journey, the CLI and the tests share it."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from functools import cached_property

from .model import DONT_KNOW
from .model import NOT_APPLICABLE
from .model import PROFILE
from .model import Question
from .model import Questionnaire
from .model import Replacement
from .model import Section
from .scoring import AnswerError
from .scoring import State
from .scoring import hidden_questions
from .scoring import normalize
from .scoring import outcomes_of
from .scoring import reworded_forms
from .scoring import visible_profile


class Journey:
    """One organisation's way through a questionnaire, for its profile and answers.

    Visibility has one rule, the scoring walk's: a question is shown unless
    `hidden_questions` hides it; a profile field when the earlier profile answers show it."""

    def __init__(self, questionnaire: Questionnaire, profile: Mapping, answers: Mapping):
        self.questionnaire = questionnaire
        self.profile = dict(profile)
        self.answers = dict(answers)
        self.shown_profile, known = visible_profile(questionnaire, self.profile)
        self.hidden = hidden_questions(questionnaire, known, self.answers)
        # The questions put to them in their other form (the rest are asked as written).
        self.asked = reworded_forms(questionnaire, known)

    @cached_property
    def outcomes(self) -> dict:
        """Each question's scoring Outcome (walked on first use: a page needs only
        what is shown)."""
        return outcomes_of(self.questionnaire, self.hidden, self.answers)

    def visible(self, question: Question) -> bool:
        if question.section == PROFILE:
            return question.id in self.shown_profile
        return question.id not in self.hidden

    def questions(self, section: Section) -> list[Question]:
        """The visible questions of a section, each in the form it is asked."""
        return [self.asked.get(q.id, q) for q in section.questions if self.visible(q)]

    @cached_property
    def steps(self) -> tuple[Section, ...]:
        """The sections with a question to show (walked once: a journey never changes)."""
        return tuple(
            s for s in self.questionnaire.sections if any(self.visible(q) for q in s.questions)
        )

    @property
    def values(self) -> dict:
        """Profile and answers together, as checks read them."""
        return self.profile | self.answers

    def values_with(self, values: Mapping) -> dict:
        """Profile and answers together as a page's values would leave them (None clears
        an answer), without walking the questionnaire again: what checks read."""
        merged = self.values | dict(values)
        return {k: v for k, v in merged.items() if v is not None}

    def value(self, question: Question):
        source = self.profile if question.section == PROFILE else self.answers
        return source.get(question.id)

    def unanswered(self, section: Section) -> list[Question]:
        """The visible required questions of a section that have no answer yet."""
        return [q for q in self.questions(section) if q.required and self.value(q) is None]

    def all_unanswered(self) -> list[Question]:
        return [q for step in self.steps for q in self.unanswered(step)]

    def newly_open(self, earlier: Journey) -> list[Question]:
        """Required questions without an answer that `earlier` did not show: what a
        change opened (a follow-up, or questions a new profile answer asks)."""
        return [q for q in self.all_unanswered() if not earlier.visible(q)]

    def shown_profile_values(self) -> dict:
        """The profile answers this journey shows (a field hidden since keeps no say)."""
        return {k: v for k, v in self.profile.items() if k in self.shown_profile}

    def with_values(self, values: Mapping) -> Journey:
        """This journey as it would be with a page's values (None clears an answer)."""
        return Journey(self.questionnaire, *self.values_after(values))

    def values_after(self, values: Mapping) -> tuple[dict, dict]:
        """(profile, answers) as a page's values would leave them (None clears an answer)."""
        profile, answers = dict(self.profile), dict(self.answers)
        for question_id, value in values.items():
            is_profile = self.questionnaire.fields[question_id].section == PROFILE
            target = profile if is_profile else answers
            if value is None:
                target.pop(question_id, None)
            else:
                target[question_id] = value
        return profile, answers

    def candidates(self, step: Section) -> list[Question]:
        """The questions a post for this step may answer: those the profile does not
        rule out. (Follow-ups on the same page appear as the page's own answers change.)"""
        if step.id == PROFILE:
            return list(step.questions)
        return [
            self.asked.get(q.id, q)
            for q in step.questions
            if self.hidden.get(q.id) != State.HIDDEN_BY_PROFILE
        ]

    def unseen_questions(self, step: Section, seen_ids: Iterable[str]) -> list[Question]:
        """Visible, unanswered questions of a step that were not on the page just posted."""
        seen = set(seen_ids)
        return [
            q for q in self.questions(step) if q.id not in seen and self.value(q) is None
        ]  # fmt: skip

    def next_step(self, step: Section) -> Section | None:
        """The step after this one (the first step if this one is no longer shown);
        None after the last: time to review."""
        steps = self.steps
        later = steps[steps.index(step) + 1 :] if step in steps else steps
        return later[0] if later else None

    def previous_step(self, step: Section) -> Section:
        steps = self.steps
        index = steps.index(step) if step in steps else 0
        return steps[max(index - 1, 0)]

    def resume_step(self, saved_ids: Iterable[str]) -> Section | None:
        """The first step never saved or with required questions still open; None
        when every step is done (time to review)."""
        saved = set(saved_ids)
        for step in self.steps:
            if step.id not in saved or self.unanswered(step):
                return step
        return None


def profile_gaps(questionnaire: Questionnaire, values: Mapping) -> list[Question]:
    """Required profile fields that these posted profile values show but leave empty."""
    posted = {k: v for k, v in values.items() if v is not None}
    journey = Journey(questionnaire, posted, {})
    return journey.unanswered(questionnaire.sections[0])


def carry_over(questionnaire: Questionnaire, values: Mapping, version: int | None = None) -> dict:
    """What a re-assessment starts from: the answers given to `version` of the
    questionnaire that this (possibly newer) version still accepts, normalized.

    Each question takes the answer of the question with its id; when this version
    `replaces` that one, a renamed or split question takes the answer of the question
    its rule names, with renamed options translated."""
    replaces = questionnaire.replaces
    rules = replaces if replaces is not None and replaces.version == version else None
    kept = {}
    for question in questionnaire.fields.values():
        rule = rules.rule(question.id) if rules else None
        source = rule.source_id if rule else question.id
        if source not in values:
            continue
        try:
            kept[question.id] = normalize(question, _carried(question, values[source], rule))
        except AnswerError:
            continue
    return kept


def _carried(question: Question, value, rule: Replacement | None):
    """An earlier answer in this question's options. Where the rule renames options only
    those it lists carry over; of a `multiple`, the chosen options that remain do."""
    renamed = {old: new for new, old, _line in rule.options} if rule and rule.options else None
    if value in (DONT_KNOW, NOT_APPLICABLE):
        return value
    if question.type == "multiple" and isinstance(value, list | tuple | set | frozenset):
        chosen = [renamed.get(v) for v in value] if renamed is not None else list(value)
        remaining = [v for v in chosen if v in question.option_by_value]
        return remaining or None
    return renamed.get(value) if renamed is not None else value
