"""Reading and writing assessments: one row per answer, written by upsert.

Persistence only: what is visible and what comes next is the engine's
(`app.engine.journey`); which HTTP status a failure gets is the view's.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..database import reading_connection
from ..engine.model import PROFILE
from ..extensions import db
from ..models import Answer
from ..models import Assessment
from ..models import Release
from ..models import ResultItem
from ..models import SavedSection
from ..models import hash_token
from ..models import new_token
from ..models import utcnow
from ..reporting.aggregates import newest_release
from ..reporting.aggregates import refresh_release
from ..reporting.result_rows import result_rows

MAX_TOKEN_LENGTH = 64


class UnknownToken(LookupError):
    """No assessment has this token (never existed, deleted or purged)."""


class json_object_agg(FunctionElement):
    """The aggregated rows' (key, value) pairs as the text of one JSON object; the value
    column holds JSON. SQLite gives '{}' without rows, PostgreSQL NULL."""

    type = sa.Text()
    inherit_cache = True
    name = "json_object_agg"


@compiles(json_object_agg, "sqlite")
def _sqlite_json_object_agg(element, compiler, **kw):
    key, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_group_object({key}, json({value}))"


@compiles(json_object_agg, "postgresql")
def _postgresql_json_object_agg(element, compiler, **kw):
    key, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(json_object_agg({key}, {value}) AS TEXT)"


_ANSWERS = Answer.__table__
_ASSESSMENTS = Assessment.__table__
_RELEASES = Release.__table__


def _stored_answers_of(assessment_id):
    """The answers of an assessment as stored, in one value: {question id: value} as JSON
    text. Decoding it costs less than fetching a row per answer, and the text is the key
    of the journey walked from it (loading.stored_journey)."""
    answers = json_object_agg(_ANSWERS.c.question_id, _ANSWERS.c.value)
    return sa.select(sa.func.coalesce(answers, "{}")).where(
        _ANSWERS.c.assessment_id == assessment_id
    )


def _release_in_force(column):
    """`column` of the release in force of the assessment's campaign, for a submitted
    campaign member (its results page shows that release's medians); else NULL."""
    release = _RELEASES.c.campaign_id == _ASSESSMENTS.c.campaign_id
    member_result = sa.and_(
        _ASSESSMENTS.c.submitted_at.is_not(None), _ASSESSMENTS.c.campaign_id.is_not(None)
    )
    return sa.case((member_result, newest_release(release, column).scalar_subquery()))


# Built once: every assessment page starts with this query, on the tables (Core: the
# ORM's unit of work cost more than the query). Its row has the assessment's columns
# and `member_key` (read-only: a view that changes the assessment loads it with
# `editable`), and what the pages of the assessment read besides, in the same round trip:
# the answers of an open assessment (`stored_answers`; a submitted one's are read when
# needed, its result being kept per worker: loading.locked_result), and the release in
# force of a submitted campaign member's campaign (`release_id`, `release_created_at`).
_BY_TOKEN_HASH = sa.select(
    _ASSESSMENTS,
    sa.func.coalesce(_ASSESSMENTS.c.member_id, _ASSESSMENTS.c.id).label("member_key"),
    sa.case(
        (
            _ASSESSMENTS.c.submitted_at.is_(None),
            _stored_answers_of(_ASSESSMENTS.c.id).scalar_subquery(),
        )
    ).label("stored_answers"),
    _release_in_force(_RELEASES.c.id).label("release_id"),
    _release_in_force(_RELEASES.c.created_at).label("release_created_at"),
).where(_ASSESSMENTS.c.token_hash == sa.bindparam("token_hash"))
_STORED_ANSWERS = _stored_answers_of(sa.bindparam("assessment_id"))


def find(token: str) -> sa.Row:
    """The row of the assessment behind a token (_BY_TOKEN_HASH); or UnknownToken."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise UnknownToken
    parameters = {"token_hash": hash_token(token)}
    row = reading_connection().execute(_BY_TOKEN_HASH, parameters).first()
    if row is None:
        raise UnknownToken
    return row


def editable(record: sa.Row) -> Assessment:
    """The ORM object of an assessment row, for a view that changes or deletes it."""
    return db.session.get(Assessment, record.id)


def stored_answers(assessment_id: int) -> str:
    """The answers as stored: the text of one JSON object {question id: value}. Read on
    the session's connection: answers are only ever written by Core statements
    (save_changes), so there is nothing for the ORM to flush first."""
    return db.session.connection().scalar(_STORED_ANSWERS, {"assessment_id": assessment_id})


def _decode(question, value):
    return frozenset(value) if question.type == "multiple" and isinstance(value, list) else value


def _encode(value):
    return sorted(value) if isinstance(value, frozenset | set) else value


# A save's first statement: it takes the write lock and checks the assessment is still open.
_TOUCH_OPEN = (
    sa.update(_ASSESSMENTS)
    .where(_ASSESSMENTS.c.id == sa.bindparam("assessment"), _ASSESSMENTS.c.submitted_at.is_(None))
    .values(updated_at=sa.bindparam("now"))
)


def decoded_values(stored: str, questionnaire) -> tuple[dict, dict]:
    """(profile, answers) as engine values from `stored_answers`' text; answers the
    questionnaire no longer accepts are skipped."""
    profile, answers = {}, {}
    for question_id, value in json.loads(stored).items():
        question = questionnaire.fields.get(question_id)
        if question is None:
            continue
        target = profile if question.section == PROFILE else answers
        target[question_id] = _decode(question, value)
    return profile, answers


def _upserts(table, key: list[str], updated: list[str]) -> dict:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET updated columns (for executemany),
    built once for each database the app runs on: building one costs more than running it."""
    built = {}
    for dialect in (sqlite, postgresql):
        statement = dialect.insert(table)
        built[dialect.dialect.name] = statement.on_conflict_do_update(
            index_elements=key, set_={c: statement.excluded[c] for c in updated}
        )
    return built


_UPSERT_ANSWERS = _upserts(_ANSWERS, ["assessment_id", "question_id"], ["value", "updated_at"])
_UPSERT_SAVED = _upserts(SavedSection.__table__, ["assessment_id", "section_id"], ["saved_at"])
_CLEAR_ANSWERS = sa.delete(_ANSWERS).where(
    _ANSWERS.c.assessment_id == sa.bindparam("assessment_id"),
    _ANSWERS.c.question_id.in_(sa.bindparam("cleared", expanding=True)),
)


def _execute(connection, statements: dict, parameters) -> None:
    """Run the statement built for this database."""
    connection.execute(statements[connection.dialect.name], parameters)


def _answer_rows(assessment_id: int, values: dict, now) -> list[dict]:
    """The rows of the answers table for the values that are not None."""
    return [
        {"assessment_id": assessment_id, "question_id": q, "value": _encode(v), "updated_at": now}
        for q, v in values.items()
        if v is not None
    ]


def save_changes(connection, assessment_id: int, changes: dict) -> None:
    """Upsert changed answers and delete cleared ones, in the connection's transaction."""
    rows = _answer_rows(assessment_id, changes, utcnow())
    if rows:
        _execute(connection, _UPSERT_ANSWERS, rows)
    cleared = [q for q, v in changes.items() if v is None]
    if cleared:
        connection.execute(_CLEAR_ANSWERS, {"assessment_id": assessment_id, "cleared": cleared})


def mark_saved(connection, assessment_id: int, section_id: str) -> None:
    _execute(
        connection,
        _UPSERT_SAVED,
        {"assessment_id": assessment_id, "section_id": section_id, "saved_at": utcnow()},
    )


def save_page(connection, assessment_id: int, section_id: str, changes: dict) -> bool:
    """Write one page's changes, unless the assessment was submitted meanwhile (False).

    The first statement takes the write lock, so the check and the writes are atomic."""
    still_open = connection.execute(_TOUCH_OPEN, {"assessment": assessment_id, "now": utcnow()})
    if still_open.rowcount != 1:
        return False
    save_changes(connection, assessment_id, changes)
    mark_saved(connection, assessment_id, section_id)
    return True


def saved_sections(assessment: sa.Row) -> set[str]:
    return set(
        db.session.scalars(
            sa.select(SavedSection.section_id).where(SavedSection.assessment_id == assessment.id)
        )
    )


# Built once, on the tables (Core): every submit runs them.
_SUBMIT = (
    sa.update(_ASSESSMENTS)
    .where(_ASSESSMENTS.c.id == sa.bindparam("assessment"), _ASSESSMENTS.c.submitted_at.is_(None))
    .values(
        submitted_at=sa.bindparam("now"),
        overall=sa.bindparam("score"),
        level=sa.bindparam("level_id"),
    )
)
# The organisation's other assessments: coalesce(member_id, id) == key, written so that
# both indexes serve it (a coalesce() would read every assessment, each submit).
_SUPERSEDE = (
    sa.update(_ASSESSMENTS)
    .where(
        (_ASSESSMENTS.c.member_id == sa.bindparam("key"))
        | ((_ASSESSMENTS.c.id == sa.bindparam("key")) & _ASSESSMENTS.c.member_id.is_(None)),
        _ASSESSMENTS.c.id != sa.bindparam("assessment"),
    )
    .values(superseded=True)
)


def submit(assessment: sa.Row, result, profile: dict) -> bool:
    """Mark submitted once and keep the figures dashboards aggregate; a second
    (or concurrent) submit changes nothing.

    The organisation's earlier results stop counting (one organisation, one member),
    and its campaign's and the national releases are renewed if enough changed."""
    updated = db.session.execute(
        _SUBMIT,
        {
            "assessment": assessment.id,
            "now": utcnow(),
            "score": result.overall,
            "level_id": result.level.id,
        },
    )
    if updated.rowcount != 1:
        return False
    db.session.execute(sa.insert(ResultItem.__table__), result_rows(assessment.id, result, profile))
    db.session.execute(_SUPERSEDE, {"key": assessment.member_key, "assessment": assessment.id})
    refresh_releases(assessment.campaign_id)
    return True


def refresh_releases(campaign_id: int | None) -> None:
    """Renew a campaign's release and the national one, if enough results changed."""
    if campaign_id is not None:
        refresh_release(campaign_id)
    refresh_release(None)


# Rows per executemany: each is one statement to PostgreSQL's statement timeout and to
# the watchdog (app/dbguard.py), which a whole file's answers would outlast.
ROWS_PER_INSERT = 5000


def add_submitted(questionnaire, language: str, submissions: list[tuple]) -> list[str]:
    """Store new assessments as submitted, in the caller's transaction, and return their
    tokens in order: what `Assessment.start`, `save_changes` and `submit` write
    for each, in one INSERT of many rows per table (an import stores thousands).

    `submissions`: (columns such as campaign_id or submission_id, profile | answers,
    result, the profile values shown). Nothing is superseded: a new assessment is its
    own member, and no other assessment's member id can be a new id."""
    if not submissions:
        return []
    now = utcnow()
    tokens = [new_token() for _ in submissions]
    assessments = [
        columns
        | {
            "token_hash": hash_token(token),
            "questionnaire_id": questionnaire.id,
            "questionnaire_version": questionnaire.version,
            "language": language,
            "submitted_at": now,
            "overall": result.overall,
            "level": result.level.id,
        }
        for token, (columns, _values, result, _shown) in zip(tokens, submissions, strict=True)
    ]
    ids = db.session.scalars(
        sa.insert(_ASSESSMENTS).returning(_ASSESSMENTS.c.id, sort_by_parameter_order=True),
        assessments,
    ).all()
    answers = [
        row
        for id_, (_columns, values, _result, _shown) in zip(ids, submissions, strict=True)
        for row in _answer_rows(id_, values, now)
    ]
    items = [
        item
        for id_, (_columns, _values, result, shown) in zip(ids, submissions, strict=True)
        for item in result_rows(id_, result, shown)
    ]
    for table, rows in ((_ANSWERS, answers), (ResultItem.__table__, items)):
        for start in range(0, len(rows), ROWS_PER_INSERT):
            db.session.execute(sa.insert(table), rows[start : start + ROWS_PER_INSERT])
    return tokens
