"""Loading and saving assessments: one row per answer, written by upsert."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from .. import questionnaires
from ..cache import AppCache
from ..engine import score
from ..engine.scoring import ANSWERED
from ..engine.scoring import NOT_APPLICABLE_STATE
from ..engine.scoring import UNANSWERED
from ..engine.scoring import normalize
from ..engine.scoring import visible_profile
from ..engine.scoring import walk
from ..extensions import db
from ..models import Answer
from ..models import Assessment
from ..models import ResultItem
from ..models import SavedSection
from ..models import hash_token
from ..models import utcnow

log = logging.getLogger(__name__)
MAX_TOKEN_LENGTH = 64


# Built once: every assessment page starts with this query.
_BY_TOKEN_HASH = sa.select(Assessment).where(Assessment.token_hash == sa.bindparam("token_hash"))


def find(token: str) -> Assessment:
    """The assessment behind a token; the same 404 for every unknown token."""
    if len(token) > MAX_TOKEN_LENGTH:
        abort(404)
    assessment = db.session.scalar(_BY_TOKEN_HASH, {"token_hash": hash_token(token)})
    if assessment is None:
        abort(404)
    return assessment


def questionnaire_of(assessment: Assessment):
    questionnaire = questionnaires().get(
        assessment.questionnaire_id, assessment.questionnaire_version
    )
    if questionnaire is None:
        log.error(
            "Assessment %s needs %s v%s, which is not loaded",
            assessment.id,
            assessment.questionnaire_id,
            assessment.questionnaire_version,
        )
        abort(404)
    return questionnaire


def _decode(question, value):
    return frozenset(value) if question.type == "multiple" and isinstance(value, list) else value


def _encode(value):
    return sorted(value) if isinstance(value, frozenset | set) else value


def load_values(assessment: Assessment, questionnaire) -> tuple[dict, dict]:
    """(profile, answers) as engine values; rows the questionnaire no longer accepts are skipped."""
    profile, answers = {}, {}
    rows = db.session.execute(
        sa.select(Answer.question_id, Answer.value).where(Answer.assessment_id == assessment.id)
    )
    for question_id, value in rows:
        question = questionnaire.fields.get(question_id)
        if question is None:
            continue
        target = profile if question.section == "profile" else answers
        target[question_id] = _decode(question, value)
    return profile, answers


def _upsert(table, key: list[str], updated: list[str]):
    """INSERT ... ON CONFLICT (key) DO UPDATE SET updated columns, for executemany."""
    dialect = db.session.get_bind().dialect.name
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_update(
        index_elements=key, set_={c: statement.excluded[c] for c in updated}
    )


def save_changes(assessment_id: int, changes: dict) -> None:
    """Upsert changed answers and delete cleared ones, in the caller's transaction."""
    now = utcnow()
    rows = [
        {"assessment_id": assessment_id, "question_id": q, "value": _encode(v), "updated_at": now}
        for q, v in changes.items()
        if v is not None
    ]
    if rows:
        upsert = _upsert(
            Answer.__table__, ["assessment_id", "question_id"], ["value", "updated_at"]
        )
        db.session.execute(upsert, rows)
    cleared = [q for q, v in changes.items() if v is None]
    if cleared:
        db.session.execute(
            sa.delete(Answer).where(
                Answer.assessment_id == assessment_id, Answer.question_id.in_(cleared)
            )
        )


def mark_saved(assessment_id: int, section_id: str) -> None:
    upsert = _upsert(SavedSection.__table__, ["assessment_id", "section_id"], ["saved_at"])
    db.session.execute(
        upsert, {"assessment_id": assessment_id, "section_id": section_id, "saved_at": utcnow()}
    )


def save_page(assessment_id: int, section_id: str, changes: dict) -> bool:
    """Write one page's changes, unless the assessment was submitted meanwhile (False).

    The first statement takes the write lock, so the check and the writes are atomic."""
    still_open = db.session.execute(
        sa.update(Assessment)
        .where(Assessment.id == assessment_id, Assessment.submitted_at.is_(None))
        .values(updated_at=utcnow())
    )
    if still_open.rowcount != 1:
        return False
    save_changes(assessment_id, changes)
    mark_saved(assessment_id, section_id)
    return True


def saved_sections(assessment: Assessment) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(SavedSection.section_id).where(SavedSection.assessment_id == assessment.id)
        )
    )


class Journey:
    """What this organisation sees: the steps and questions its answers make visible."""

    def __init__(self, questionnaire, profile: dict, answers: dict):
        self.questionnaire = questionnaire
        self.profile = profile
        self.answers = answers
        self.shown_profile, _ = visible_profile(questionnaire, profile)
        self.outcomes = walk(questionnaire, profile, answers)

    def visible(self, question) -> bool:
        if question.section == "profile":
            return question.id in self.shown_profile
        return self.outcomes[question.id].state in (ANSWERED, NOT_APPLICABLE_STATE, UNANSWERED)

    def questions(self, section) -> list:
        return [q for q in section.questions if self.visible(q)]

    @property
    def steps(self) -> list:
        return [s for s in self.questionnaire.sections if self.questions(s)]

    def with_values(self, values: dict) -> Journey:
        """This journey as it would be with a page's posted values (for re-rendering it)."""
        profile, answers = dict(self.profile), dict(self.answers)
        for question_id, value in values.items():
            target = (
                profile
                if question_id in self.questionnaire.section_by_id["profile"].question_ids
                else answers
            )
            if value is None:
                target.pop(question_id, None)
            else:
                target[question_id] = value
        return Journey(self.questionnaire, profile, answers)

    def value(self, question):
        source = self.profile if question.section == "profile" else self.answers
        return source.get(question.id)

    def unanswered(self, section) -> list:
        return [q for q in self.questions(section) if q.required and self.value(q) is None]


def journey_for(assessment: Assessment, questionnaire) -> Journey:
    profile, answers = load_values(assessment, questionnaire)
    return Journey(questionnaire, profile, answers)


_RESULTS = AppCache("locked results", 512)


def locked_result(assessment: Assessment, questionnaire):
    """(journey, result) of a submitted assessment. Its answers are locked, so the
    result is computed once per process (pinned to its questionnaire version)."""
    key = (assessment.id, assessment.submitted_at)
    value = _RESULTS.get(key)
    if value is None:
        journey = journey_for(assessment, questionnaire)
        value = (journey, score(questionnaire, journey.profile, journey.answers))
        _RESULTS.put(key, value)
    return value


def valid_copy(questionnaire, values: dict) -> dict:
    """Keep the answers that a (possibly newer) questionnaire still accepts."""
    copy = {}
    for question_id, value in values.items():
        question = questionnaire.fields.get(question_id)
        if question is None:
            continue
        try:
            copy[question_id] = normalize(question, value)
        except ValueError:
            continue
    return copy


def submit(assessment: Assessment, result, profile: dict) -> bool:
    """Mark submitted once and keep the figures dashboards aggregate; a second
    (or concurrent) submit changes nothing."""
    updated = db.session.execute(
        sa.update(Assessment)
        .where(Assessment.id == assessment.id, Assessment.submitted_at.is_(None))
        .values(submitted_at=utcnow(), overall=result.overall, level=result.level.id)
    )
    if updated.rowcount != 1:
        return False
    db.session.execute(sa.insert(ResultItem), result_rows(assessment.id, result, profile))
    return True


def result_rows(assessment_id: int, result, profile: dict) -> list[dict]:
    """The figures of a result as ResultItem rows."""
    row = {"assessment_id": assessment_id, "value": None, "status": None}
    rows = [row | {"kind": "overall", "key": "", "value": result.overall}]
    rows.append(row | {"kind": "level", "key": result.level.id})
    rows += [
        row | {"kind": "dimension", "key": d, "value": s.score}
        for d, s in result.dimensions.items()
        if s.score is not None and not result.questionnaire.dimension_by_id[d].legal
    ]
    rows += [
        row | {"kind": "commitment", "key": c, "status": r.status}
        for c, r in result.commitments.items()
    ]
    rows += [row | {"kind": "knockout", "key": q} for q in result.knockouts_failed]
    rows += [row | {"kind": "action", "key": a.action.id} for a in result.actions]
    rows += [row | {"kind": "profile", "key": k, "status": v} for k, v in profile_groups(profile)]
    return rows


SIZE_BANDS = ((200, "200+"), (50, "50-199"), (10, "10-49"), (1, "1-9"), (0, "0"))


def profile_groups(profile: dict):
    """(field, group) pairs for national overviews: choices as they are, numbers by
    the size bands of Código del Trabajo art. 505 bis."""
    for field_id, value in sorted(profile.items()):
        if isinstance(value, str) and len(value) <= 64:
            yield field_id, value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield field_id, next(label for floor, label in SIZE_BANDS if value >= floor)
