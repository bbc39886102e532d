"""Cheap to serve: compression, cacheable static files, and no query per question."""

from __future__ import annotations

import gzip
import re

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.associations import add_members
from tests.associations import create_association
from tests.associations import login
from tests.associations import new_campaign
from tests.journey import Visitor
from tests.journey import best


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


def test_section_page_is_light(client):
    visitor = Visitor(client)
    visitor.start()
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
        data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', second.page)[1]}
        | {"action": "next", "legal_cotizaciones": "not-an-option"},
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


@pytest.fixture
def queries(app):
    counter = QueryCounter(app)
    yield counter
    event.remove(counter.engine, "before_cursor_execute", counter._count)


def test_page_queries_do_not_grow_with_questions_or_assessments(app, client, queries):
    visitor = Visitor(client)
    visitor.start()
    step = queries.during(lambda: client.get(visitor.url))
    visitor.answer_all(best)
    review = queries.during(lambda: client.get(visitor.url))
    visitor.submit()
    results = queries.during(lambda: client.get(visitor.url))
    # A whole questionnaire answered: still a handful of queries per page.
    assert step <= 6 and review <= 6 and results <= 8, (step, review, results)

    create_association(app, "A", "a@example.cl")
    login(client, "a@example.cl")
    campaign = new_campaign(client)
    add_members(app, campaign, 5)
    few = queries.during(lambda: client.get(f"/es/associations/campaigns/{campaign}"))
    add_members(app, campaign, 40)
    many = queries.during(lambda: client.get(f"/es/associations/campaigns/{campaign}"))
    assert many == few, (few, many)
