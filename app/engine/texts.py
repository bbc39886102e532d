"""Every translatable text of a questionnaire, with its gettext context.

One place names the contexts, so the Babel extractor and the pages that
show translated text always agree. A context is
`<questionnaire>/<item>/<part>`, e.g. `compromiso-migrante/g_politica/help`.
"""

from __future__ import annotations

from .model import Action
from .model import Commitment
from .model import Dimension
from .model import Level
from .model import Question
from .model import Questionnaire

QUESTION_PARTS = ("text", "help", "source", "evidence", "unit")


def context_of(questionnaire: Questionnaire, item, part: str = "text") -> str:
    if isinstance(item, Questionnaire):
        return f"{questionnaire.id}/{part}"
    if isinstance(item, Question | Dimension):
        return f"{questionnaire.id}/{item.id}/{part}"
    if isinstance(item, Action):
        return f"{questionnaire.id}/{item.question_id}/actions/{item.id}"
    if isinstance(item, Level):
        return f"{questionnaire.id}/levels/{item.id}/{part}"
    if isinstance(item, Commitment):
        return f"{questionnaire.id}/commitments/{item.id}/{part}"
    raise TypeError(f"no translatable text in {type(item).__name__}")


def source_of(item, part: str = "text") -> str:
    return item.text if isinstance(item, Action) else getattr(item, part)


def option_context(questionnaire: Questionnaire, question: Question, option) -> str:
    return f"{questionnaire.id}/{question.id}/options/{option.value}"


def resource_context(questionnaire: Questionnaire, action: Action, index: int) -> str:
    return f"{context_of(questionnaire, action)}/resources/{index}"


def texts(questionnaire: Questionnaire):
    """Yield (context, source text, line, note for translators) for every non-empty text."""
    q = questionnaire
    items = [(q, part, 1) for part in ("title", "intro", "disclaimer")]
    items += [(c, part, 1) for c in q.commitments for part in ("title", "description")]
    for question in q.profile:
        items += [(question, part, question.line) for part in QUESTION_PARTS]
    for dimension in q.dimensions:
        items += [(dimension, part, 1) for part in ("title", "description")]
        for question in dimension.questions:
            items += [(question, part, question.line) for part in QUESTION_PARTS]
    items += [
        (level, part, 1) for level in q.levels for part in ("title", "description", "next_steps")
    ]
    for item, part, line in items:
        text = source_of(item, part)
        if text:
            yield context_of(q, item, part), text, line, NOTES.get(part, "")
        if isinstance(item, Question) and part == "text":
            about = f"{item.text[:120]}"
            for option in item.options:
                if option.label:
                    note = f"An answer to the question: {about}"
                    yield option_context(q, item, option), option.label, line, note
            for action in item.actions:
                note = f"A recommended action, shown after a weak answer to: {about}"
                yield context_of(q, action), action.text, line, note
                for index, resource in enumerate(action.resources):
                    note = "The title of a link to an official web page"
                    yield resource_context(q, action, index), resource.title, line, note


NOTES = {
    "help": "Help text under a question: explain terms in plain words.",
    "source": "The law or standard a question rests on; keep names and numbers.",
    "evidence": "A document an organisation shows when it applies.",
    "unit": "The unit of a number answer.",
    "next_steps": "What the organisation should do next at this readiness level.",
}


def extract(fileobj, keywords, comment_tags, options):
    """Babel extractor for questionnaire YAML (see [tool.babel] in pyproject.toml)."""
    from .loader import QuestionnaireError
    from .loader import load_text

    name = getattr(fileobj, "name", "<questionnaire>")
    try:
        questionnaire = load_text(fileobj.read().decode("utf-8"), str(name))
    except QuestionnaireError as error:
        raise SystemExit(f"cannot extract from an invalid questionnaire:\n{error}") from None
    for context, text, line, note in texts(questionnaire):
        comments = [f"Translators: {note}"] if note else []
        yield line, "pgettext", (context, text), comments
