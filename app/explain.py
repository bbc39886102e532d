"""What a level still needs, in words: for the results page, the PDF and
`questionnaire score`. The engine says which requirement; this says it."""

from __future__ import annotations

from flask_babel import gettext as _

from .engine.model import plain_number
from .engine.scoring import Need
from .engine.scoring import Status
from .i18n import format_percentage


def lowest_answer_reaching(question, minimum) -> str | None:
    """The value of the least answer that earns at least `minimum` points."""
    reaching = [o for o in question.options if o.points >= minimum]
    return min(reaching, key=lambda o: o.points).value if reaching else None


def requirement_text(requirement, result, content, answer_label, lang: str | None = None) -> str:
    """One unmet (or met) requirement of a level, as a sentence.

    `answer_label(question, value)` shows an answer; `content` translates questionnaire text."""
    questionnaire = result.questionnaire
    kind = requirement.kind
    if kind == Need.MUST_HAVE:
        question = questionnaire.fields[requirement.id]
        words = {"question": content(question)}
        if question.basis == "standard":
            return _("Meet the minimum standard: “%(question)s”", **words)
        return _("Meet the legal requirement: “%(question)s”", **words)
    if kind == Need.OVERALL:
        return _(
            "Overall readiness of at least %(minimum)s (now %(current)s)",
            minimum=format_percentage(plain_number(requirement.minimum), lang),
            current=format_percentage(requirement.current or 0, lang),
        )
    if kind == Need.DIMENSION:
        return _(
            "%(area)s: at least %(minimum)s (now %(current)s)",
            area=content(questionnaire.dimension_by_id[requirement.id], "title"),
            minimum=format_percentage(plain_number(requirement.minimum), lang),
            current=format_percentage(requirement.current or 0, lang),
        )
    if kind == Need.PRACTICE:
        question = questionnaire.fields[requirement.id]
        value = lowest_answer_reaching(question, requirement.minimum)
        return _(
            "“%(question)s”: at least “%(answer)s”",
            question=content(question),
            answer=answer_label(question, value),
        )
    commitment = next(c for c in questionnaire.commitments if c.id == requirement.id)
    words = {"id": commitment.id, "title": content(commitment, "title")}
    if requirement.current == Status.NOT_ASSESSED:
        return _("Commitment %(id)s, %(title)s: no question of it applies to you yet", **words)
    if requirement.minimum == Status.IN_PLACE:
        return _("Commitment %(id)s, %(title)s: in place", **words)
    return _("Commitment %(id)s, %(title)s: at least partly in place", **words)
