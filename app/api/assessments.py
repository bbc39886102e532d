"""Anonymous assessments: start one (its private token is shown once), read where it
stands, answer a section, submit, read the result. Every call but the first sends the
token as `Authorization: Bearer`. Answers are validated by the web's own step
validation (`forms.validate_step`), with its messages, and stored by the web's store."""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from .. import default_questionnaire
from .. import questionnaires
from ..assess import store
from ..assess.forms import missing_answer_message
from ..assess.forms import validate_step
from ..assess.loading import journey_after
from ..assess.result_json import result_json
from ..database import read_first
from ..database import write_transaction
from ..engine.checks import failed_checks
from ..engine.journey import Journey
from ..engine.model import CHOICE_TYPES
from ..extensions import db
from ..extensions import limiter
from ..i18n import content_for
from ..i18n import current_language
from ..models import Assessment
from . import bp
from . import documented
from . import schemas
from .auth import current_assessment
from .errors import fail
from .questionnaires import section_title
from .schemas import CHOOSE
from .schemas import N_

log = logging.getLogger(__name__)

WHOLE_NUMBER = _l("Enter a whole number, for example 12.")
TEXT = _l("Write this answer as text.")
NOT_HERE = _l("This question is not part of this section.")
NOT_SHOWN = _l("This section is not shown for this organisation's answers.")
SUBMITTED = _l("This assessment was already submitted. Start a new one to change answers.")
NOT_SUBMITTED = _l("This assessment is not submitted yet.")


def as_posted(question, value) -> list[str]:
    """An answer (JSON, or as stored) as a browser posts it, so that the web's form
    reads it: a choice its value, several choices their values, a number its digits,
    text itself, None nothing. TypeError(message) for an answer of the wrong kind."""
    if value is None:
        return []
    if question.type == "multiple":
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list | frozenset | set) and all(isinstance(v, str) for v in values):
            return sorted(values)
        raise TypeError(CHOOSE)
    if question.type in CHOICE_TYPES:
        if isinstance(value, str):
            return [value]
        raise TypeError(CHOOSE)
    if question.type == "number":
        if isinstance(value, int) and not isinstance(value, bool):
            return [str(value)]
        if isinstance(value, str):
            return [value]
        raise TypeError(WHOLE_NUMBER)
    if isinstance(value, str):
        return [value]
    raise TypeError(TEXT)


def as_json(values: dict) -> dict:
    """Engine values as the `questionnaire score` contract writes them."""
    return {k: sorted(v) if isinstance(v, frozenset) else v for k, v in values.items()}


def state(record, questionnaire, journey, saved: set[str]) -> dict:
    content = content_for(questionnaire)
    steps = journey.steps
    resume = journey.resume_step(saved)
    return {
        "questionnaire": questionnaire.id,
        "version": questionnaire.version,
        "language": record.language,
        "submitted": record.submitted_at is not None,
        "steps": [
            {
                "id": step.id,
                "title": section_title(step, content),
                "saved": step.id in saved,
                "questions": [q.id for q in journey.questions(step)],
                "unanswered": [q.id for q in journey.unanswered(step)],
            }
            for step in steps
        ],
        "next_step": resume.id if resume else None,
        "reworded": [q.id for step in steps for q in journey.questions(step) if q.wording],
        "profile": as_json(journey.profile),
        "answers": as_json(journey.answers),
    }


def messages(form) -> dict[str, list[str]]:
    return {name: [str(m) for m in errors] for name, errors in form.errors.items() if errors}


@bp.route("/assessments", methods=["POST"])
@limiter.limit(
    lambda: current_app.config["NEW_ASSESSMENT_LIMIT_PER_ADDRESS"],
    deduct_when=lambda response: response.status_code == 201,  # only assessments created
    scope="new-assessment",  # the web's setting, counted for the API on its own
    override_defaults=False,
)
@documented(
    404,
    413,
    422,
    summary=N_("Start an assessment"),
    description=N_(
        "Creates an empty assessment and returns its private token, once. Answer the "
        "profile first (PUT /assessment/sections/profile): it decides which questions apply."
    ),
)
@bp.arguments(schemas.NewAssessment, required=False)
@bp.response(201, schemas.NewAssessmentState)
def start(body):
    if "questionnaire" in body:
        questionnaire = questionnaires().get(body["questionnaire"])
        if questionnaire is None:
            fail(404)
    else:
        questionnaire = default_questionnaire()
    assessment, token = Assessment.start(questionnaire, body.get("language", current_language()))
    db.session.add(assessment)
    db.session.commit()
    log.info("Assessment %s started through the API", assessment.id)
    journey = Journey(questionnaire, {}, {})
    return state(assessment, questionnaire, journey, set()) | {"token": token}


@bp.route("/assessment")
@documented(
    401,
    404,
    token=True,
    summary=N_("Read the assessment"),
    description=N_(
        "Its steps (the sections its profile shows), the questions each shows and those "
        "still unanswered, where to go on, and every answer so far."
    ),
)
@bp.response(200, schemas.AssessmentState)
def read():
    loaded = current_assessment()
    saved = store.saved_sections(loaded.record)
    return state(loaded.record, loaded.questionnaire, loaded.journey, saved)


@bp.route(
    "/assessment/sections/<section_id>",
    methods=["PUT"],
    parameters=[
        {
            "in": "path",
            "name": "section_id",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": N_("A step's id: profile, then the sections of the questionnaire."),
            "example": "profile",
        }
    ],
)
@documented(
    401,
    404,
    409,
    413,
    422,
    token=True,
    summary=N_("Answer a section"),
    description=N_(
        "Validated as the web validates a page, with the same messages: 422 with each "
        "question's messages, and nothing stored. Answering the profile can show or hide "
        "later sections."
    ),
)
@bp.arguments(
    schemas.SectionAnswers,
    example={
        "answers": {
            "p_tipo_organizacion": "empresa",
            "p_dotacion_total": 80,
            "p_dotacion_extranjera": 12,
            "p_sector": "comercio",
            "p_region": "metropolitana",
        }
    },
)
@bp.response(200, schemas.AssessmentState)
def answer(body, section_id):
    read_first()  # reading and validating need no lock; the save takes it briefly
    loaded = current_assessment()
    questionnaire, journey = loaded.questionnaire, loaded.journey
    step = questionnaire.section_by_id.get(section_id)
    if step is None:
        fail(404)
    if loaded.submitted:
        fail(409, SUBMITTED)
    if step not in journey.steps:
        fail(409, NOT_SHOWN)
    answers = body["answers"]
    candidates = {q.id: q for q in journey.candidates(step)}
    # Every question of the page is posted, as the web's page posts it: those not sent
    # with their stored answer. An answer of the wrong kind is posted empty, and keeps
    # its own message.
    errors = {qid: [str(NOT_HERE)] for qid in answers if qid not in candidates}
    posted = MultiDict()
    for question in candidates.values():
        value = answers[question.id] if question.id in answers else journey.value(question)
        try:
            posted.setlist(question.id, as_posted(question, value))
        except TypeError as error:
            errors[question.id] = [str(error.args[0])]
    content = content_for(questionnaire)
    form, values = validate_step(
        questionnaire, journey, step, posted, content, meta={"csrf": False}
    )
    errors = messages(form) | errors
    if errors:
        fail(422, errors=errors)
    changes = {qid: values[qid] for qid in answers}
    with write_transaction() as connection:
        still_open = store.save_page(connection, loaded.record.id, step.id, changes)
    if not still_open:
        fail(409, SUBMITTED)  # submitted meanwhile
    saved = store.saved_sections(loaded.record)
    return state(loaded.record, questionnaire, journey_after(journey, changes), saved)


@bp.route("/assessment/submit", methods=["POST"])
@documented(
    401,
    404,
    422,
    token=True,
    summary=N_("Submit the assessment"),
    description=N_(
        "Scores it and locks its answers, as the web's review page does, and returns the "
        "result. Refused (422) while the profile has gaps or answers break a cross-field "
        "check. Submitting again returns the same result."
    ),
)
@bp.response(200, schemas.Result)
def submit():
    loaded = current_assessment()
    if not loaded.submitted:
        questionnaire, journey = loaded.questionnaire, loaded.journey
        content = content_for(questionnaire)
        errors = {
            q.id: [missing_answer_message(q)] for q in journey.unanswered(questionnaire.sections[0])
        }
        for check in failed_checks(questionnaire, journey.values):
            for name in check.questions or sorted(check.when.names):
                errors.setdefault(name, []).append(content(check, "message"))
        if errors:
            fail(422, errors=errors)
        loaded.submit()
        db.session.commit()
        log.info("Assessment %s submitted through the API", loaded.record.id)
    return results_of(loaded)


@bp.route("/assessment/results")
@documented(
    401,
    404,
    409,
    token=True,
    summary=N_("Read the result"),
    description=N_(
        "The JSON of `flask questionnaire score`: overall and area scores, level, what "
        "the next level still needs, commitments, the action plan, evidence to gather "
        "and answers to verify, with texts in the request's language."
    ),
)
@bp.response(200, schemas.Result)
def results():
    loaded = current_assessment()
    if not loaded.submitted:
        fail(409, NOT_SUBMITTED)
    return results_of(loaded)


def results_of(loaded) -> dict:
    _journey, result = loaded.result()
    return result_json(result, content_for(loaded.questionnaire), current_language())
