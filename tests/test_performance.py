"""Cheap to serve: compression, cacheable static files, and no query per question."""

from __future__ import annotations

import gzip
import re

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.support.accounts import add_members
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import SHIPPED
from tests.support.visitor import Visitor
from tests.support.visitor import best


def test_text_responses_are_gzipped(client):
    response = client.get("/es/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(response.data)
    assert "Accept-Encoding" in response.headers["Vary"]
    assert "Content-Encoding" not in client.get("/es/").headers


def test_static_files_have_hashed_urls_and_long_cache(client):
    page = client.get("/es/").get_data(as_text=True)
    url = re.search(r'href="(/static/style\.css\?v=[0-9a-f]{12})"', page).group(1)
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["Content-Encoding"] == "gzip"
    response.close()


def test_section_page_is_light(make_app):
    """The budget is for the shipped questionnaire's pages, long help texts and all."""
    client = make_app(**SHIPPED).test_client()
    visitor = Visitor(client)
    visitor.start()
    assert visitor.url.endswith("/s/legal-1")
    weight = len(visitor.page.encode())
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', visitor.page):
        response = client.get(asset)
        weight += len(response.data)
        response.close()
    assert weight <= 40 * 1024, weight
    assert not re.search(r'(?:href|src)="https?://', visitor.page)  # no third-party requests


def checked(page, question_id):
    return re.findall(rf'name="{question_id}" value="([^"]+)" checked', page)


def test_shared_question_widgets_show_each_visitors_own_state(app):
    """Question widgets are rendered once per state and language, then reused."""
    first, second = Visitor(app.test_client()), Visitor(app.test_client())
    for visitor, answer in ((first, "si"), (second, "no")):
        visitor.start()
        step = visitor.url
        visitor.submit({"legal_cotizaciones": answer})
        visitor.get(step)
    first.get(first.url)
    assert checked(first.page, "legal_cotizaciones") == ["si"]
    assert checked(second.page, "legal_cotizaciones") == ["no"]
    # The same state in another language is another widget.
    spanish = first.page
    first.get(first.url.replace("/es/", "/ht/"))
    assert checked(first.page, "legal_cotizaciones") == ["si"]
    assert "¿Paga a tiempo las cotizaciones" in spanish
    assert "¿Paga a tiempo las cotizaciones" not in first.page
    # An error is shown once, not kept for the next visitor of that state.
    response = second.client.post(
        second.url,
        data={
            "csrf_token": second.csrf_token,
            "action": "next",
            "legal_cotizaciones": "not-an-option",
        },
    )
    assert response.status_code == 422 and "error-message" in response.get_data(as_text=True)
    assert "error-message" not in second.get(second.url).get_data(as_text=True)


def test_results_report_follows_the_language(client):
    visitor = Visitor(client)
    visitor.start()
    visitor.answer_all(best)
    visitor.submit()
    assert "Score by area" not in visitor.page
    haitian = client.get(visitor.url.replace("/es/", "/ht/")).get_data(as_text=True)
    assert "Pwen pou chak domèn" in haitian
    assert "Puntaje por área" not in haitian and "Pwen pou chak domèn" not in visitor.page


class QueryCounter:
    """Counts the SQL statements an app's engine runs."""

    def __init__(self, app):
        self.count = 0
        with app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.count += 1

    def during(self, call):
        self.count = 0
        call()
        return self.count

    def remove(self):
        event.remove(self.engine, "before_cursor_execute", self._count)


@pytest.fixture
def queries(app):
    counter = QueryCounter(app)
    yield counter
    counter.remove()


def journey_queries(app, counter) -> dict:
    """Statements run by a step page, then the review and results of a whole questionnaire."""
    client = app.test_client()
    visitor = Visitor(client)
    visitor.start()
    counts = {"step": counter.during(lambda: client.get(visitor.url))}
    visitor.answer_all(best)
    counts["review"] = counter.during(lambda: client.get(visitor.url))
    visitor.submit()
    counts["results"] = counter.during(lambda: client.get(visitor.url))
    return counts


def test_page_queries_do_not_grow_with_questions_or_assessments(make_app, app, client, queries):
    small = journey_queries(app, queries)
    # A whole questionnaire answered: still a handful of queries per page.
    assert small["step"] <= 6 and small["review"] <= 6 and small["results"] <= 8, small
    # The shipped questionnaire, many times longer: the same statements.
    shipped = make_app(**SHIPPED)
    counter = QueryCounter(shipped)
    try:
        assert journey_queries(shipped, counter) == small
    finally:
        counter.remove()

    create_association(app, "A", "a@example.cl")
    login(client, "a@example.cl")
    campaign = new_campaign(client)
    add_members(app, campaign, 5)
    few = queries.during(lambda: client.get(f"/es/associations/campaigns/{campaign}"))
    add_members(app, campaign, 40)
    many = queries.during(lambda: client.get(f"/es/associations/campaigns/{campaign}"))
    assert many == few, (few, many)
