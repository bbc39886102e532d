"""The language of the API's texts and messages: `?lang=`, else Accept-Language."""

from __future__ import annotations

from flask import current_app
from flask import g
from flask import request

from ..i18n import best_language


def choose_language() -> None:
    """`?lang=`, else the best of Accept-Language (as `/` chooses), else Spanish."""
    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang")
    g.lang = lang if lang in languages else best_language(languages)
