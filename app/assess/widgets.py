"""Question widgets are most of a step page's work, and their HTML is the same for
everyone who sees a question in the same state. Each (questionnaire version,
language, question, state) is rendered once per process.

Only states that come from the questionnaire are cached: an option value, a number
written the one way the page writes it. Anything else a post brings (a number padded
with zeros, an unknown value, a hand-made hidden field) is rendered and forgotten, so
a visitor cannot fill a worker's memory with keys of their own."""

from __future__ import annotations

import json

from ..cache import question_widgets
from ..engine.model import DONT_KNOW
from ..engine.model import NOT_APPLICABLE
from .forms import ORIGINAL_PREFIX
from .forms import encode


def question_widget(render, question, form, content, calculator, calculator_fields):
    """`render` is the template's `question` macro, called only on a miss."""
    field = form[question.id]
    original = form.originals.get(question.id)

    def rendered():
        return render(question, form, content, ORIGINAL_PREFIX, calculator, calculator_fields)

    if question.type == "text" or field.errors or calculator is not None:
        # Free text may be personal; errors and calculator results are one-off states.
        return rendered()
    if not (canonical_raw(question, field) and canonical_original(original)):
        return rendered()
    key = (
        *content.key,
        question.id,
        question.wording,
        tuple(field.raw_data or ()),
        repr(field.data),
        original,
    )
    html = question_widgets.get(key)
    if html is None:
        html = rendered()
        question_widgets.put(key, html)
    return html


def canonical_raw(question, field) -> bool:
    """The posted text is what the questionnaire itself would write."""
    raw = list(field.raw_data or ())
    if question.type == "number":
        return raw in ([], [str(field.data)])
    known = set(question.option_by_value) | {DONT_KNOW, NOT_APPLICABLE}
    return all(value in known for value in raw)


def canonical_original(original) -> bool:
    """The hidden copy of the value shown is the page's own encoding of a short value."""
    if not original:
        return True
    try:
        return len(original) <= 1024 and encode(json.loads(original)) == original
    except (TypeError, ValueError):
        return False
