"""What the API takes and gives, as marshmallow schemas: flask-smorest checks request
bodies with them, writes responses through them and builds the OpenAPI document from
them. Every message a client can get back is our own, translated (app/forms.py says why).
"""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields
from marshmallow.validate import Length
from marshmallow.validate import OneOf

from ..config import LANGUAGES
from ..reporting.aggregates import SMALL_COUNT
from ..reporting.aggregates import too_few

FEWER = f"<{SMALL_COUNT}"  # a count of one or two organisations, as the dashboard hides it
FILL_IN = _l("Fill in this field.")
CHOOSE = _l("Choose one of the options.")


class UtcDateTime(fields.DateTime):
    """A stored time, in UTC, with its zone: SQLite gives it back without one."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def number(nullable: bool = False) -> fields.Raw:
    """A figure as the engine writes it (`plain_number`: 2, or 0.5), never made 2.0."""
    return fields.Raw(required=True, allow_none=nullable, metadata={"type": "number"})


def N_(text: str) -> str:
    """Marks an English text of the OpenAPI document for translation: the document
    stays English, the documentation page shows it translated (docs.py)."""
    return text


class Body(ma.Schema):
    """A request body: a JSON object of known fields."""

    error_messages = {
        "type": _l("Send a JSON object."),
        "unknown": _l("This field is not part of the API."),
    }

    class Meta:
        unknown = ma.RAISE


class NewAssessment(Body):
    questionnaire = fields.String(
        validate=Length(max=64, error=CHOOSE),
        error_messages={"invalid": CHOOSE, "null": CHOOSE},
        metadata={"description": N_("The questionnaire's id; by default the one the site offers.")},
    )
    language = fields.String(
        validate=OneOf(LANGUAGES, error=CHOOSE),
        error_messages={"invalid": CHOOSE, "null": CHOOSE},
        metadata={
            "description": N_(
                "The assessment's language; by default the request's (lang, Accept-Language)."
            )
        },
    )


class SectionAnswers(Body):
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        error_messages={
            "required": FILL_IN,
            "null": FILL_IN,
            "invalid": _l("Send the answers as a JSON object: each question's id and its answer."),
        },
        metadata={
            "description": N_(
                "Question id: answer. A choice is its option's value; several choices a list "
                'of values; a number an integer; text a string; "na" and "dont_know" where '
                "the question allows them; null clears an answer. Questions not sent keep "
                "their answers."
            )
        },
    )


class Error(ma.Schema):
    code = fields.Integer(required=True, metadata={"description": N_("The HTTP status.")})
    message = fields.String(
        required=True, metadata={"description": N_("What went wrong, in the request's language.")}
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": N_("Each field or question with its messages (422 only).")},
    )


# --- Questionnaires ----------------------------------------------------------


class QuestionnaireSummary(ma.Schema):
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(required=True)
    languages = fields.List(fields.String(), required=True)
    questions = fields.Integer(required=True, metadata={"description": N_("How many questions.")})


Labels = fields.Dict(
    keys=fields.String(),
    values=fields.String(),
    required=True,
    metadata={"description": N_("Each answer's words: option values, and na and dont_know.")},
)


class Rewording(ma.Schema):
    when = fields.String(required=True)
    text = fields.String(required=True)
    help = fields.String(required=True)
    labels = Labels


class Field(ma.Schema):
    """What a profile field and a question share."""

    id = fields.String(required=True)
    type = fields.String(required=True)
    text = fields.String(required=True)
    help = fields.String(required=True)
    when = fields.String(required=True, allow_none=True)
    required = fields.Boolean(required=True)
    allow_na = fields.Boolean(required=True)
    dont_know = fields.Boolean(required=True)
    min = number(nullable=True)
    max = number(nullable=True)
    max_length = fields.Integer(required=True)
    unit = fields.String(required=True)
    labels = Labels


class ProfileField(Field):
    options = fields.List(fields.String(), required=True)


class Option(ma.Schema):
    value = fields.String(required=True)
    points = number()


class Question(Field):
    knockout = fields.Boolean(required=True)
    options = fields.List(fields.Nested(Option), required=True)
    max_points = number()
    best = fields.Raw(required=True)
    worst = fields.Raw(required=True)
    reworded = fields.Nested(Rewording, required=True, allow_none=True)


class Dimension(ma.Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    weight = number()
    legal = fields.Boolean(required=True)
    questions = fields.List(fields.Nested(Question), required=True)


class Section(ma.Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    questions = fields.List(fields.String(), required=True)


class Level(ma.Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    min = number()


class Titled(ma.Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)


class Check(ma.Schema):
    id = fields.String(required=True)
    message = fields.String(required=True)
    questions = fields.List(fields.String(), required=True)


class QuestionnaireDocument(ma.Schema):
    """`questionnaire export`'s contract, with the texts in one language."""

    id = fields.String(required=True)
    version = fields.Integer(required=True)
    languages = fields.List(fields.String(), required=True)
    language = fields.String(required=True, metadata={"description": N_("The texts' language.")})
    title = fields.String(required=True)
    intro = fields.String(required=True)
    profile = fields.List(fields.Nested(ProfileField), required=True)
    sections = fields.List(fields.Nested(Section), required=True)
    dimensions = fields.List(fields.Nested(Dimension), required=True)
    levels = fields.List(fields.Nested(Level), required=True)
    commitments = fields.List(fields.Nested(Titled), required=True)
    checks = fields.List(fields.Nested(Check), required=True)


# --- Assessments -------------------------------------------------------------


class Step(ma.Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    saved = fields.Boolean(required=True)
    questions = fields.List(
        fields.String(), required=True, metadata={"description": N_("The questions shown.")}
    )
    unanswered = fields.List(fields.String(), required=True)


Answers = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)


class AssessmentState(ma.Schema):
    questionnaire = fields.String(required=True)
    version = fields.Integer(required=True)
    language = fields.String(required=True)
    submitted = fields.Boolean(required=True)
    steps = fields.List(fields.Nested(Step), required=True)
    next_step = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": N_("The first step still to answer; null: ready to submit.")},
    )
    reworded = fields.List(
        fields.String(),
        required=True,
        metadata={"description": N_("Questions asked in their reworded form.")},
    )
    profile = Answers
    answers = Answers


class NewAssessmentState(AssessmentState):
    token = fields.String(
        required=True,
        metadata={
            "description": N_(
                "The private key to this assessment, shown once: send it as "
                "Authorization: Bearer. The same key opens the assessment on the web."
            )
        },
    )


class Unmet(ma.Schema):
    kind = fields.String(required=True)
    id = fields.String(required=True)
    text = fields.String(required=True)


class NextLevel(ma.Schema):
    id = fields.String(required=True)
    unmet = fields.List(fields.Nested(Unmet), required=True)


class Action(ma.Schema):
    id = fields.String(required=True)
    priority = fields.String(required=True)
    text = fields.String(required=True)


class CommitmentResult(ma.Schema):
    score = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True)
    blocked = fields.Boolean(required=True)


class EvidenceItem(ma.Schema):
    id = fields.String(required=True)
    when = fields.String(required=True)
    text = fields.String(required=True)


class Result(ma.Schema):
    """`questionnaire score`'s contract."""

    overall = fields.Integer(required=True, allow_none=True)
    level = fields.String(required=True)
    dimensions = fields.Dict(
        keys=fields.String(), values=fields.Integer(allow_none=True), required=True
    )
    knockouts_failed = fields.List(fields.String(), required=True)
    actions = fields.List(
        fields.Nested(Action), required=True, metadata={"description": N_("The action plan.")}
    )
    unanswered = fields.List(fields.String(), required=True)
    next_level = fields.Nested(NextLevel, required=True, allow_none=True)
    commitments = fields.Dict(
        keys=fields.String(), values=fields.Nested(CommitmentResult), required=True
    )
    evidence = fields.List(fields.Nested(EvidenceItem), required=True)
    verify = fields.List(fields.String(), required=True)


# --- Campaigns ---------------------------------------------------------------


class Count(fields.Field):
    """A number of organisations in a breakdown: one or two show as "<3", as on the
    dashboard, so that a figure cannot point at a single member."""

    def _serialize(self, value, attr, obj, **kwargs):
        return FEWER if too_few(value) else value


def count(description: str = "") -> Count:
    return Count(
        required=True,
        metadata={
            "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "enum": [FEWER]}],
            "description": description or N_('Organisations; one or two show as "<3".'),
        },
    )


class Participation(ma.Schema):
    started = fields.Integer(required=True)
    completed = fields.Integer(required=True)


class CampaignSummary(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    questionnaire = fields.String(required=True)
    version = fields.Integer(required=True)
    open = fields.Boolean(required=True)
    closes_on = fields.Date(required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    participation = fields.Nested(Participation, required=True)


class Figure(ma.Schema):
    mean = fields.Integer(required=True, allow_none=True)
    median = fields.Integer(required=True, allow_none=True)


class AreaFigure(Figure):
    id = fields.String(required=True)
    title = fields.String(required=True)


class CommitmentFigure(ma.Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    in_place = count()
    partial = count()
    not_in_place = count()


class Tally(ma.Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    members = count()


class Release(ma.Schema):
    created_at = UtcDateTime(required=True)
    members = fields.Integer(required=True)
    overall = fields.Nested(Figure, required=True)
    areas = fields.List(fields.Nested(AreaFigure), required=True)
    commitments = fields.List(fields.Nested(CommitmentFigure), required=True)
    levels = fields.List(fields.Nested(Tally), required=True)
    must_haves_pending = fields.List(fields.Nested(Tally), required=True)
    actions = fields.List(fields.Nested(Tally), required=True)


class NamedMember(ma.Schema):
    name = fields.String(required=True, allow_none=True)
    overall = fields.Integer(required=True, allow_none=True)
    level = fields.String(required=True, allow_none=True)
    submitted_on = fields.Date(required=True)


class CampaignFigures(CampaignSummary):
    members_needed = fields.Integer(
        required=True,
        metadata={"description": N_("Members still to complete before the first release.")},
    )
    release = fields.Nested(
        Release,
        required=True,
        allow_none=True,
        metadata={
            "description": N_(
                "The figures released so far: the first once 5 members completed, then "
                "each time at least 5 more results are new or changed; null before."
            )
        },
    )
    named_members = fields.List(
        fields.Nested(NamedMember),
        required=True,
        metadata={"description": N_("Only members who chose to share their named result.")},
    )
