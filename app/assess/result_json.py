"""A result as JSON: the `questionnaire score` contract of DESIGN.md. The command and
the API both write it here, so the same answers give the same JSON in both."""

from __future__ import annotations

from functools import partial

from flask_babel import force_locale

from ..explain import requirement_text
from ..i18n import format_number
from .forms import answer_label


def result_json(result, content, lang: str) -> dict:
    """`result.to_json` with its texts (`content`: questionnaire text) in `lang`."""
    with force_locale(lang):
        label = partial(
            answer_label, content=content, format_number=partial(format_number, lang=lang)
        )
        describe = partial(
            requirement_text, result=result, content=content, answer_label=label, lang=lang
        )
        return result.to_json(text=content, describe=describe)
