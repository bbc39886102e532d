"""The questionnaires: which are loaded, and one version with its texts in a language."""

from __future__ import annotations

from flask_babel import gettext as _

from .. import questionnaires
from ..assess.forms import option_choices
from ..assess.forms import special_choices
from ..cli import content_languages
from ..cli import listing
from ..engine.export import export
from ..engine.model import PROFILE
from ..engine.model import plain_number
from ..i18n import content_for
from ..i18n import current_language
from . import bp
from . import documented
from . import schemas
from .errors import fail
from .schemas import N_


def section_title(section, content) -> str:
    """A step's heading, as the web's step page writes it."""
    if section.id == PROFILE:
        return _("About your organisation")
    title = content(section.dimension, "title")
    if section.parts > 1:
        return _(
            "%(title)s (part %(part)s of %(parts)s)",
            title=title,
            part=section.part,
            parts=section.parts,
        )
    return title


def _field_texts(question, content) -> dict:
    """What `export` leaves out of a profile field or a question: its words and limits."""
    return {
        "text": content(question),
        "help": content(question, "help"),
        "when": question.when.source if question.when else None,
        "required": question.required,
        "allow_na": question.allow_na,
        "dont_know": question.dont_know,
        "min": None if question.min is None else plain_number(question.min),
        "max": None if question.max is None else plain_number(question.max),
        "max_length": question.max_length,
        "unit": content(question, "unit"),
        "labels": _labels(question, content),
    }


def _labels(question, content) -> dict:
    return {value: str(label) for value, label in option_choices(question, content)} | {
        value: str(label) for value, label in special_choices(question)
    }


def _reworded(question, content) -> dict | None:
    if question.reworded is None:
        return None
    other = question.reworded_form
    return {
        "when": question.reworded.when.source,
        "text": content(other),
        "help": content(other, "help"),
        "labels": _labels(other, content),
    }


def document(questionnaire, content) -> dict:
    """`questionnaire export`'s JSON, each item completed with its texts in one language,
    plus the steps of the journey and the cross-field checks."""
    data = export(questionnaire, content_languages(questionnaire))
    fields = questionnaire.fields
    for field in data["profile"]:
        field |= _field_texts(fields[field["id"]], content)
    for dimension, exported in zip(questionnaire.dimensions, data["dimensions"], strict=True):
        exported |= {"title": content(dimension, "title"), "legal": dimension.legal}
        for question in exported["questions"]:
            source = fields[question["id"]]
            question |= _field_texts(source, content) | {"reworded": _reworded(source, content)}
    for level, exported in zip(questionnaire.levels, data["levels"], strict=True):
        exported["title"] = content(level, "title")
    return data | {
        "language": content.lang,
        "title": content(questionnaire, "title"),
        "intro": content(questionnaire, "intro"),
        "sections": [
            {
                "id": section.id,
                "title": section_title(section, content),
                "questions": [q.id for q in section.questions],
            }
            for section in questionnaire.sections
        ],
        "commitments": [
            {"id": c.id, "title": content(c, "title")} for c in questionnaire.commitments
        ],
        "checks": [
            {"id": c.id, "message": content(c, "message"), "questions": list(c.questions)}
            for c in questionnaire.checks
        ],
    }


@bp.route("/questionnaires")
@documented(
    summary=N_("List the questionnaires"),
    description=N_("Every loaded version, newest last, with its title in the request's language."),
)
@bp.response(200, schemas.QuestionnaireSummary(many=True))
def list_questionnaires():
    return [listing(q) | {"title": content_for(q)(q, "title")} for q in questionnaires()]


@bp.route("/questionnaires/<questionnaire_id>/<int:version>")
@documented(
    404,
    summary=N_("Read one questionnaire version"),
    description=N_(
        "The structure of `flask questionnaire export` (profile, dimensions with their "
        "questions, conditions, options and points, levels), with every text in the "
        "request's language, the steps of the journey and the cross-field checks."
    ),
)
@bp.response(200, schemas.QuestionnaireDocument)
def questionnaire_version(questionnaire_id, version):
    questionnaire = questionnaires().get(questionnaire_id, version)
    if questionnaire is None:
        fail(404)
    return document(questionnaire, content_for(questionnaire, current_language()))
