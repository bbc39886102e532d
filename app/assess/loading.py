"""One loader for every assessment page: token -> record, pinned questionnaire and
journey, with the same 404 for an unknown token and for a questionnaire version
that is no longer loaded."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import sqlalchemy as sa
from flask import current_app
from flask import request
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from .. import pinned_questionnaire
from .. import questionnaires
from ..cache import journeys
from ..cache import locked_results
from ..engine import score
from ..engine.comparison import comparable_result
from ..engine.journey import Journey
from ..engine.model import Questionnaire
from ..extensions import db
from ..models import Assessment
from . import store


def journey_for(record: Assessment | sa.Row, questionnaire: Questionnaire) -> Journey:
    """The journey of the stored values."""
    return stored_journey(questionnaire, store.stored_answers(record.id))


def stored_journey(questionnaire: Questionnaire, stored_answers: str) -> Journey:
    """The journey of answers as stored (the JSON text of store.stored_answers), walked
    once per worker for each text: a page seen again decodes nothing."""
    key = (questionnaire.id, questionnaire.version, questionnaire.sha256, stored_answers)
    journey = journeys.get(key)
    if journey is None:
        values = store.decoded_values(stored_answers, questionnaire)
        journey = walked_journey(questionnaire, *values)
        journeys.put(key, journey)
    return journey


def journey_after(journey: Journey, values) -> Journey:
    """`journey.with_values(values)`, walked once per worker for each answer set."""
    return walked_journey(journey.questionnaire, *journey.values_after(values))


def walked_journey(questionnaire: Questionnaire, profile: dict, answers: dict) -> Journey:
    """A journey, walked once per worker for each questionnaire and answer set."""
    key = (
        questionnaire.id,
        questionnaire.version,
        questionnaire.sha256,
        frozenset(profile.items()),
        frozenset(answers.items()),
    )
    journey = journeys.get(key)
    if journey is None:
        journey = Journey(questionnaire, profile, answers)
        journeys.put(key, journey)
    return journey


def locked_result(record: Assessment | sa.Row, questionnaire: Questionnaire):
    """(journey, result) of a submitted assessment. Its answers are locked, so the
    result is computed once per process (pinned to its questionnaire version)."""
    key = (record.id, record.submitted_at)
    value = locked_results.get(key)
    if value is None:
        journey = journey_for(record, questionnaire)
        value = (journey, score(questionnaire, journey.profile, journey.answers))
        locked_results.put(key, value)
    return value


@dataclass
class LoadedAssessment:
    token: str
    record: sa.Row  # store.find's: read-only
    questionnaire: Questionnaire

    @classmethod
    def find(cls, token: str) -> LoadedAssessment:
        """The assessment a token opens, or store.UnknownToken."""
        record = store.find(token)
        return cls(token, record, pinned_questionnaire(record, "Assessment"))

    @property
    def submitted(self) -> bool:
        return self.record.submitted_at is not None

    @cached_property
    def journey(self) -> Journey:
        """The journey as stored."""
        if self.record.stored_answers is None:  # not read with a submitted assessment
            return journey_for(self.record, self.questionnaire)
        return stored_journey(self.questionnaire, self.record.stored_answers)

    def submit(self) -> None:
        """Score the answers as stored and lock them: the one submit of the web's review
        page and of the API (the caller commits)."""
        journey = self.journey
        result = score(self.questionnaire, journey.profile, journey.answers)
        store.submit(self.record, result, journey.shown_profile_values())

    def result(self):
        """(journey, result) of a submitted assessment."""
        return locked_result(self.record, self.questionnaire)

    def previous_result(self):
        """The result of the assessment this one re-assesses, if it was submitted and
        its questionnaire version is still loaded; None otherwise. Only what both
        versions measure the same way is kept (areas, commitments, the overall score)."""
        if self.record.previous_id is None:
            return None
        previous = db.session.get(Assessment, self.record.previous_id)
        if previous is None or previous.submitted_at is None:
            return None
        questionnaire = questionnaires().get(
            previous.questionnaire_id, previous.questionnaire_version
        )
        if questionnaire is None:
            return None
        return comparable_result(locked_result(previous, questionnaire)[1], self.questionnaire)


class AssessmentGone(NotFound):
    """A form posted to an assessment that no longer exists: the person had it open, so
    it was deleted or purged meanwhile. Still a 404 (guessing tokens is rate-limited
    on 404s), with a page that says what happened instead of "check the address"."""

    @property
    def page_message(self) -> str:
        return _(
            "This assessment no longer exists: it was deleted, or removed automatically "
            "%(days)s days after its last change. What you typed could not be saved. "
            "You can start a new assessment from the start page.",
            days=current_app.config["RETENTION_DAYS"],
        )


def load_assessment(token: str) -> LoadedAssessment:
    try:
        return LoadedAssessment.find(token)
    except store.UnknownToken:
        raise AssessmentGone() if request.method == "POST" else NotFound() from None
