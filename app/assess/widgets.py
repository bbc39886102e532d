"""Question widgets are most of a step page's work, and their HTML is the same for
everyone who sees a question in the same state. Each (questionnaire version,
language, question, state) is rendered once per process."""

from __future__ import annotations

from ..cache import question_widgets
from .forms import ORIGINAL_PREFIX


def question_widget(render, question, form, content, calculator, calculator_fields):
    """`render` is the template's `question` macro, called only on a miss."""
    field = form[question.id]
    original = form[ORIGINAL_PREFIX + question.id].data

    def rendered():
        return render(question, form, content, ORIGINAL_PREFIX, calculator, calculator_fields)

    if question.type == "text" or field.errors or calculator is not None:
        # Free text may be personal; errors and calculator results are one-off states.
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
