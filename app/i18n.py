"""Locale selection, locale-aware formatting and translated questionnaire content.

The language is the first path segment (`/es/...`, `/ht/...`, `/en/...`).
UI strings live in the `messages` gettext domain (English source); the
questionnaire text lives in the `questionnaires` domain, with the Spanish
text as msgid and `<questionnaire>/<item>/<part>` as msgctxt.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import date
from datetime import datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from babel.numbers import format_percent
from babel.support import NullTranslations
from babel.support import Translations
from flask import current_app
from flask import g
from flask import request
from flask_babel import force_locale
from flask_babel import get_translations
from jinja2.ext import _make_new_gettext
from jinja2.ext import _make_new_ngettext

from .cache import CONTENT_CATALOGS
from .cache import CONTENT_TEXTS
from .cache import memoized
from .engine import texts

log = logging.getLogger(__name__)

# Each language by its own name (CLDR's Haitian Creole data has no names for
# other languages, and a user looks for their own language's name).
AUTONYMS = {"es": "Español", "ht": "Kreyòl ayisyen", "en": "English"}
# Babel locale used to format numbers and dates for each UI language (parsed once:
# a dashboard formats thousands of numbers).
FORMAT_LOCALES = {
    lang: Locale.parse(tag) for lang, tag in {"es": "es_CL", "ht": "ht", "en": "en"}.items()
}
# CLDR has no Haitian Creole month names (it prints "2026 M03 4").
HT_MONTHS = (
    "janvye", "fevriye", "mas", "avril", "me", "jen",
    "jiyè", "out", "septanm", "oktòb", "novanm", "desanm",
)  # fmt: skip


def current_language() -> str:
    return getattr(g, "lang", None) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_locale() -> str:
    return current_language()


def best_language(languages) -> str:
    """The best language for `/` from Accept-Language; Haitian browsers often say fr-HT."""
    for value, _quality in request.accept_languages:
        tag = value.lower().replace("_", "-")
        if tag in ("fr-ht", "ht-ht") or tag.startswith("ht"):
            return "ht"
        primary = tag.split("-")[0]
        if primary in languages:
            return primary
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def format_number(value, lang: str | None = None) -> str:
    return format_decimal(value, locale=FORMAT_LOCALES[lang or current_language()])


def format_percentage(value, lang: str | None = None) -> str:
    """`value` is 0-100."""
    lang = lang or current_language()
    if lang == "ht":  # CLDR gives "88%"; Haitian usage follows French: "88 %"
        return f"{format_decimal(value, locale=FORMAT_LOCALES['ht'])}\u00a0%"
    return format_percent(value / 100, locale=FORMAT_LOCALES[lang])


def format_day(value: date | datetime, lang: str | None = None) -> str:
    lang = lang or current_language()
    if lang == "ht":
        return f"{value.day} {HT_MONTHS[value.month - 1]} {value.year}"
    return babel_format_date(value, "long", locale=FORMAT_LOCALES[lang])


def template_gettext() -> dict:
    """`gettext`/`_` and `ngettext` for one template render, bound to the catalog of the
    locale in force when the render starts. Flask-Babel's global callables look the
    catalog up again on every call: a third of a results page's time went there.
    Jinja's i18n extension resolves these names from the render context first."""
    catalog = get_translations()
    return {
        "gettext": _make_new_gettext(catalog.ugettext),
        "ngettext": _make_new_ngettext(catalog.ungettext),
    }


def language_name(lang: str) -> str:
    return AUTONYMS.get(lang) or Locale.parse(lang).get_display_name(lang)


@memoized(CONTENT_CATALOGS)
def _content_catalog(directory: str, lang: str):
    translations = Translations.load(directory, [lang], domain="questionnaires")
    if isinstance(translations, NullTranslations) and not isinstance(translations, Translations):
        log.warning("No compiled questionnaire translations for %r; showing source text", lang)
    return translations


@memoized(CONTENT_TEXTS)
def _translated(directory: str, lang: str, context: str, text: str) -> str:
    return _content_catalog(directory, lang).pgettext(context, text)


class Content:
    """Questionnaire text in one language; falls back to the source text."""

    def __init__(self, questionnaire, lang: str, directory: str):
        self.questionnaire = questionnaire
        self.lang = lang
        self.directory = directory
        self.catalog = None
        if lang != questionnaire.language:
            self.catalog = _content_catalog(directory, lang)

    @property
    def key(self) -> tuple:
        """What the text depends on: the questionnaire version, its exact file, the language."""
        questionnaire = self.questionnaire
        return (questionnaire.id, questionnaire.version, questionnaire.sha256, self.lang)

    def _text(self, context: str, text: str) -> str:
        if not text or self.catalog is None:
            return text
        return _translated(self.directory, self.lang, context, text)

    def __call__(self, item, part: str = "text") -> str:
        """Translate a part of a model object: `content(question, 'help')`."""
        context = texts.context_of(self.questionnaire, item, part)
        return self._text(context, texts.source_of(item, part))

    def option(self, question, option) -> str:
        return self._text(texts.option_context(self.questionnaire, question, option), option.label)

    def resource(self, action, index: int, resource) -> str:
        context = texts.resource_context(self.questionnaire, action, index)
        return self._text(context, resource.title)


def content_for(questionnaire, lang: str | None = None) -> Content:
    return Content(
        questionnaire, lang or current_language(), current_app.config["TRANSLATIONS_DIR"]
    )


def content_languages(questionnaire) -> list[str]:
    """The source language, then every language with a compiled content catalog."""
    directory = Path(current_app.config["TRANSLATIONS_DIR"])
    others = [
        lang
        for lang in current_app.config["LANGUAGES"]
        if lang != questionnaire.language
        and (directory / lang / "LC_MESSAGES" / "questionnaires.mo").exists()
    ]
    return [questionnaire.language, *others]


# The language each gettext domain is written in: it needs no catalog.
SOURCE_LANGUAGES = {"messages": "en", "questionnaires": "es"}


def missing_catalogs(directory: str, languages) -> list[str]:
    """Compiled catalogs (.mo) that the configured languages need and do not have.
    Without them a Creole page would silently show English and Spanish."""
    missing = []
    for domain, source in SOURCE_LANGUAGES.items():
        for lang in languages:
            path = Path(directory) / lang / "LC_MESSAGES" / f"{domain}.mo"
            if lang != source and not path.exists():
                missing.append(str(path))
    return missing


@contextmanager
def in_language(lang: str):
    """UI strings and number formats in `lang`, as on a page in that language."""
    missing = object()
    before = g.get("lang", missing)
    g.lang = lang
    try:
        with force_locale(lang):
            yield
    finally:
        if before is missing:
            g.pop("lang", None)
        else:
            g.lang = before
