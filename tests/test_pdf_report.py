"""The results PDF, read from its own structure (pypdf): tagged for screen readers in
the page's language, a first page with the verdict and the first actions, the folded
lists complete, and the chart's bars drawn to scale (each bar's width over its track's
is the area's score), not all full and black as they once were."""

from __future__ import annotations

import io
import logging
import shutil

import pytest
from flask_babel import force_locale
from flask_babel import gettext
from pypdf import PdfReader

from app import create_app
from app.extensions import db
from tests.conftest import app_config
from tests.support.report import chart_bars
from tests.support.report import select
from tests.support.report import text_of
from tests.support.report import words
from tests.support.visitor import Visitor
from tests.support.visitor import best

# The fixture questionnaire answered so that one must-have fails (the contributions, paid
# late) and one is not known, and its two areas score 29 % (gestion: 2 of 4 points on
# the person in charge, none of 2 on training and of 1 on its hours) and 50 % (entorno:
# one support of the two that count).
ANSWERS = {
    "legal_cotizaciones": "parcial",
    "legal_protocolo_karin": "dont_know",
    "g_responsable": "1",
    "g_capacitacion": "no",
    "e_apoyos": ["tramites"],
}
SCORES = (29, 50)  # gestion, entorno: the order of the chart


class Problems(logging.Handler):
    """WeasyPrint's errors while it renders (a figure without alternative text, no
    language): PDF/UA needs none."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def report(sqlite_template, tmp_path_factory):
    """(the app, the results page HTML, the PDF read by pypdf, WeasyPrint's errors),
    rendered once for the module: the PDF depends on the answers, not on the database."""
    path = tmp_path_factory.mktemp("pdf") / "test.sqlite"
    shutil.copyfile(sqlite_template, path)
    app = create_app(app_config(f"sqlite:///{path}"))
    client = app.test_client()
    visitor = Visitor(client, "ht")
    visitor.start()
    visitor.answer_all(lambda question: ANSWERS.get(question.id, best(question)))
    visitor.submit()
    problems = Problems()
    logging.getLogger("weasyprint").addHandler(problems)
    try:
        response = client.get(f"/ht/a/{visitor.token}/results.pdf")
    finally:
        logging.getLogger("weasyprint").removeHandler(problems)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    yield app, visitor.page, PdfReader(io.BytesIO(response.data)), problems.messages
    with app.app_context():
        db.engine.dispose()


def struct_kinds(element, found=None) -> list:
    """(tag, alternative text) of every element of a PDF's structure tree."""
    found = [] if found is None else found
    element = element.get_object()
    if "/S" in element:
        found.append((element["/S"], element.get("/Alt")))
    kids = element.get("/K", [])
    for kid in kids if isinstance(kids, list) else [kids]:
        kid = kid.get_object()
        if isinstance(kid, dict) and "/S" in kid:  # an element, not marked content
            struct_kinds(kid, found)
    return found


def test_the_pdf_is_tagged_in_the_language_of_the_page(report):
    app, page, pdf, problems = report
    catalog = pdf.trailer["/Root"]
    assert catalog["/Lang"] == "ht" and '<html lang="ht">' in page
    assert bool(catalog["/MarkInfo"]["/Marked"])
    kinds = struct_kinds(catalog["/StructTreeRoot"])
    tags = {kind for kind, _alt in kinds}
    assert {"/Document", "/H1", "/H2", "/P", "/L", "/LI", "/Table", "/TH", "/TD"} <= tags
    with app.test_request_context(), force_locale("ht"):
        chart_title = gettext("Score by area, from 0 to 100")
    assert ("/Figure", chart_title) in kinds  # the chart, with its title as alternative text
    assert b"pdfuaid" in catalog["/Metadata"].get_object().get_data()  # declared PDF/UA-1
    assert not problems, problems  # e.g. an image without alternative text, no language


def test_the_first_page_holds_the_verdict_and_the_first_actions(report):
    app, page, pdf, _problems = report
    first = words(pdf.pages[0].extract_text())
    with app.test_request_context(), force_locale("ht"):
        assert gettext("You cannot apply yet") in first
    to_reach = text_of(select(page, "section.verdict > p")[1])  # names the next level
    assert "“" in to_reach and to_reach in first
    must_haves = [text_of(li) for li in select(page, "section.verdict .must-haves li")]
    assert len(must_haves) == 2 and all(item in first for item in must_haves)
    top = [text_of(t) for t in select(page, "section.top-actions .action-text")]
    assert len(top) == 4 and all(action in first for action in top), (top, first)


def test_the_folded_lists_are_complete_in_the_pdf(report):
    _app, page, pdf, _problems = report
    text = words(" ".join(p.extract_text() for p in pdf.pages))
    summaries = select(page, "details.fold > summary")
    assert len(summaries) == 3  # the plan, the points to check, the evidence
    assert not any(text_of(summary) in text for summary in summaries)  # nothing to open
    # Every action of the plan, every point to check, every piece of evidence.
    items = select(page, "details.fold .action-text, details.fold .checklist li, details.fold td")
    assert len(items) >= 4 + 1 + 2
    for item in items:
        assert text_of(item) in text, text_of(item)


def test_the_bars_are_drawn_to_scale(report):
    _app, _page, pdf, _problems = report
    bars = chart_bars(pdf)
    assert len(bars) == len(SCORES), bars
    assert len({track for track, _bar in bars}) == 1  # one scale for every area
    for (track, bar), score in zip(bars, SCORES, strict=True):
        assert bar / track == pytest.approx(score / 100, abs=0.005)
