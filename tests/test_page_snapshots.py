"""Pages stay byte-identical through performance work: a fixed journey on the shipped
questionnaire (landing, profile, every step, review, results, in es, ht and en) is
compared, page by page, with the HTML recorded under tests/fixtures/pages/, the
visitor's token, the CSRF token and the submission date masked.

A deliberate change to a page re-records them:

    RECORD_PAGES=1 .venv/bin/python -m pytest -q tests/test_page_snapshots.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.content import SHIPPED
from tests.support.visitor import Visitor
from tests.support.visitor import best
from tests.support.visitor import worst

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
RECORD = os.environ.get("RECORD_PAGES") == "1"

CSRF_VALUE = re.compile(r'(name="csrf_token" value=")[^"]+(")')
CSRF_META = re.compile(r'(<meta name="csrf-token" content=")[^"]+(")')
# The results page's "Submitted on <date>." line: the day the test runs.
SUBMITTED_ON = re.compile(r'(<p class="meta">)[^<]*?\d{4}\.')


def masked(html: str, token: str | None) -> str:
    html = CSRF_VALUE.sub(r"\1CSRF\2", html)
    html = CSRF_META.sub(r"\1CSRF\2", html)
    html = SUBMITTED_ON.sub(r"\1SUBMITTED ON DATE.", html)
    if token:
        html = html.replace(token, "TOKEN")
    return html


def mixed(question):
    """Best answers for some questions and worst for others, so the results page shows
    strengths, gaps and a plan."""
    return best(question) if sum(map(ord, question.id)) % 2 else worst(question)


def journey(client, lang: str) -> list[tuple[str, str]]:
    """The pages a visitor sees, by a stable name, in order."""
    visitor = Visitor(client, lang)
    pages = []

    def keep(name):
        pages.append((name, visitor.page))

    visitor.get(f"/{lang}/")
    keep("landing")
    visitor.get(f"/{lang}/a/new")
    keep("profile")
    visitor.start()
    questionnaire = visitor.questionnaire
    for _ in range(len(questionnaire.sections) + 2):
        if "/review" in visitor.url:
            break
        section_id = visitor.url.rsplit("/s/", 1)[1]
        keep(f"step-{section_id}")
        section = questionnaire.section_by_id[section_id]
        data = {
            question.id: mixed(question)
            for question in section.questions
            if f'id="q-{question.id}"' in visitor.page
        }
        visitor.submit(data)
    keep("review")
    visitor.submit()
    assert visitor.url.endswith("/results")
    keep("results")
    return [(name, masked(html, visitor.token)) for name, html in pages]


@pytest.mark.parametrize("lang", ["es", "ht", "en"])
def test_pages_match_the_recorded_journey(make_app, lang):
    client = make_app(**SHIPPED).test_client()
    pages = journey(client, lang)
    folder = PAGES / lang
    if RECORD:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.html"):
            old.unlink()
        for number, (name, html) in enumerate(pages):
            (folder / f"{number:02d}-{name}.html").write_text(html, encoding="utf-8")
    recorded = sorted(folder.glob("*.html"))
    assert [path.name for path in recorded] == [
        f"{number:02d}-{name}.html" for number, (name, _) in enumerate(pages)
    ], "the journey's pages changed; re-record with RECORD_PAGES=1"
    for path, (name, html) in zip(recorded, pages, strict=True):
        assert html == path.read_text(encoding="utf-8"), f"{lang}: {name} differs from {path}"
