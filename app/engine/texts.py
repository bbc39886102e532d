"""Every translatable text of a questionnaire, with its gettext context.

One place names the contexts, so the Babel extractor and the pages that
show translated text always agree. A context is
`<questionnaire>/<item>/<part>`, e.g. `compromiso-migrante/g_politica/help`.
"""

from __future__ import annotations

import yaml

from .model import Action
from .model import Check
from .model import Commitment
from .model import Dimension
from .model import Level
from .model import Option
from .model import Question
from .model import Questionnaire
from .model import Resource

QUESTION_PARTS = ("text", "help", "why", "source", "evidence", "unit")
# What a reworded question says in its own words; its other parts (why, source, unit)
# are the first form's, with the first form's translations.
REWORDED_PARTS = ("text", "help", "evidence")


def context_of(questionnaire: Questionnaire, item, part: str = "text") -> str:
    if isinstance(item, Questionnaire):
        return f"{questionnaire.id}/{part}"
    if isinstance(item, Question) and item.wording and part in REWORDED_PARTS:
        return f"{questionnaire.id}/{item.id}/{item.wording}/{part}"
    if isinstance(item, Question | Dimension):
        return f"{questionnaire.id}/{item.id}/{part}"
    if isinstance(item, Action) and item.wording:
        return f"{questionnaire.id}/{item.question_id}/{item.wording}/actions/{item.id}"
    if isinstance(item, Action):
        return f"{questionnaire.id}/{item.question_id}/actions/{item.id}"
    if isinstance(item, Check):
        return f"{questionnaire.id}/checks/{item.id}"
    if isinstance(item, Level):
        return f"{questionnaire.id}/levels/{item.id}/{part}"
    if isinstance(item, Commitment):
        return f"{questionnaire.id}/commitments/{item.id}/{part}"
    raise TypeError(f"no translatable text in {type(item).__name__}")


def source_of(item, part: str = "text") -> str:
    if isinstance(item, Check):
        return item.message
    return item.text if isinstance(item, Action) else getattr(item, part)


def option_context(questionnaire: Questionnaire, question: Question, option) -> str:
    if option.wording:
        return f"{questionnaire.id}/{question.id}/{option.wording}/options/{option.value}"
    return f"{questionnaire.id}/{question.id}/options/{option.value}"


def resource_context(questionnaire: Questionnaire, action: Action, index: int) -> str:
    """A link's title, the same in both forms of a question."""
    return f"{questionnaire.id}/{action.question_id}/actions/{action.id}/resources/{index}"


def texts(questionnaire: Questionnaire, source: str | None = None):
    """Yield (context, source text, line, note for translators) for every non-empty text.

    With the questionnaire's YAML `source`, `line` is the line where each text
    starts; without it, the line of its question (1 for other items)."""
    q = questionnaire
    where = SourceLines(source) if source is not None else None

    def line_of(default, *path):
        return (where and where.line(*path)) or default

    def question_items(question):
        found = [(question, part, question.line) for part in QUESTION_PARTS]
        if question.reworded is not None:
            other = question.reworded_form
            found += [(other, part, question.line) for part in REWORDED_PARTS]
        return found

    items = [(q, part, 1) for part in ("title", "intro", "disclaimer")]
    items += [(c, part, 1) for c in q.commitments for part in ("title", "description")]
    for question in q.profile:
        items += question_items(question)
    for dimension in q.dimensions:
        items += [(dimension, part, 1) for part in ("title", "description")]
        for question in dimension.questions:
            items += question_items(question)
    items += [
        (level, part, 1) for level in q.levels for part in ("title", "description", "next_steps")
    ]
    items += [(check, "message", check.line) for check in q.checks]
    for item, part, line in items:
        text = source_of(item, part)
        if text:
            yield context_of(q, item, part), text, line_of(line, item, part), NOTES.get(part, "")
        if isinstance(item, Question) and part == "text":
            about = f"{item.text[:120]}"
            for option in item.options:
                if option.label and option.wording == item.wording:
                    note = f"An answer to the question: {about}"
                    at = line_of(line, option, option.value if option.wording else "label", item)
                    yield option_context(q, item, option), option.label, at, note
            for action in item.actions:
                if action.wording != item.wording:
                    continue  # the same text as in the question's first form
                note = f"A recommended action, shown after a weak answer to: {about}"
                at = line_of(line, action, action.id if action.wording else "text", item)
                yield context_of(q, action), action.text, at, note
                if action.wording:
                    continue  # its links are the first form's
                for index, resource in enumerate(action.resources):
                    note = "The title of a link to an official web page"
                    at_ = line_of(at, resource, "title", item, action, index)
                    yield resource_context(q, action, index), resource.title, at_, note


class SourceLines:
    """Where each text of a questionnaire starts in its YAML source.

    The model keeps at most the line of each question, so this reads the YAML's
    node tree again and finds each item's mapping by its place and id."""

    def __init__(self, source: str):
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.root = yaml.compose(source, Loader=loader)
        self.source_lines = source.splitlines()
        # Question ids are unique across a questionnaire, profile fields included.
        self.questions = {
            getattr(_get(node, "id"), "value", None): node for node in self._question_nodes()
        }

    def _question_nodes(self):
        profile = _get(self.root, "profile")
        legal = _get(self.root, "legal")
        dimensions = _get(self.root, "dimensions")
        yield from _items(profile)
        yield from _items(_get(legal, "questions"))
        for dimension in _items(dimensions):
            yield from _items(_get(dimension, "questions"))

    def _mapping(self, item, question=None, action=None, index=0):
        """The YAML mapping an item was read from (`question` for its options and
        actions, `action` and `index` for a resource), or None."""
        root = self.root
        if isinstance(item, Questionnaire):
            return root
        if isinstance(item, Question) and item.wording:
            return _get(self.questions.get(item.id), item.wording)
        if isinstance(item, Question):
            return self.questions.get(item.id)
        if isinstance(item, Check):
            return _find(_items(_get(root, "checks")), "id", item.id)
        if isinstance(item, Commitment):
            return _find(_items(_get(root, "commitments")), "id", item.id)
        if isinstance(item, Level):
            return _find(_items(_get(root, "levels")), "id", item.id)
        if isinstance(item, Dimension):
            if item.legal:
                return _get(root, "legal")
            return _find(_items(_get(root, "dimensions")), "id", item.id)
        if isinstance(item, Option) and item.wording:
            return _get(self._mapping(question), "options")  # {value: label}
        if isinstance(item, Action) and item.wording:
            return _get(self._mapping(question), "actions")  # {action id: text}
        if isinstance(item, Option):
            return _find(_items(_get(self._mapping(question), "options")), "value", item.value)
        if isinstance(item, Action):
            return _find(_items(_get(self._mapping(question), "actions")), "id", item.id)
        if isinstance(item, Resource):
            resources = _items(_get(self._mapping(action, question), "resources"))
            return resources[index] if index < len(resources) else None
        return None

    def line(self, item, part: str, *parents) -> int | None:
        """The line (from 1) where the text `part` of `item` starts, or None."""
        node = _get(self._mapping(item, *parents), part)
        if not isinstance(node, yaml.ScalarNode):
            return None
        line = node.start_mark.line  # 0-based: the line of the value (or of `>`/`|`)
        if node.style in ("|", ">"):  # a block scalar starts on the next non-blank line
            line += 1
            while line < len(self.source_lines) and not self.source_lines[line].strip():
                line += 1
        return line + 1


def _get(node, key: str):
    """The value node of `key` in a YAML mapping node, or None."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _items(node) -> list:
    """The items of a YAML sequence node ([] for anything else)."""
    if not isinstance(node, yaml.SequenceNode):
        return []
    return node.value


def _find(nodes, key: str, value: str):
    for node in nodes:
        if getattr(_get(node, key), "value", None) == value:
            return node
    return None


NOTES = {
    "help": "Help text under a question: explain terms in plain words.",
    "why": "Why the practice matters, under the question and in the action plan: short and plain.",
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
    source = fileobj.read().decode("utf-8")
    try:
        questionnaire = load_text(source, str(name))
    except QuestionnaireError as error:
        raise SystemExit(f"cannot extract from an invalid questionnaire:\n{error}") from None
    for context, text, line, note in texts(questionnaire, source):
        comments = [f"Translators: {note}"] if note else []
        yield line, "pgettext", (context, text), comments
