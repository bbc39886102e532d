"""No typing lost while the database is down, and one log line per cause
(docs/SECURITY.md 2.7 items 19 and 20).

The database is made to fail for the length of one post: every statement raises the
driver error an outage raises. The 503 page must be drawn without reading the
database again, with what was posted (checked radios, typed numbers) and a button
that saves it once the database is back.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.models import Campaign
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import EMPRESA
from tests.support.content import SHIPPED
from tests.support.pages import Page
from tests.support.pages import step_form
from tests.support.visitor import Visitor
from tests.support.visitor import best

NOTICE = "We could not save this page just now."


@contextmanager
def database_fails(app, make_error=None):
    """Every statement fails as in an outage while the block runs."""
    make_error = make_error or (
        lambda statement: sa.exc.OperationalError(
            statement, {}, sqlite3.OperationalError("unable to open database file")
        )
    )

    def fail(_connection, _cursor, statement, *_args):
        raise make_error(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)


def hidden_fields(page: str) -> dict:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def test_step_save_in_an_outage_keeps_the_posted_answers(make_app):
    app = make_app(**SHIPPED)
    visitor = Visitor(app.test_client(), lang="en")
    visitor.start(EMPRESA)
    assert visitor.url.endswith("/s/legal-1")
    step_url = visitor.url
    with database_fails(app):
        response = visitor.submit({"legal_cotizaciones": "parcial"}, follow=False)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    assert int(response.headers["Retry-After"]) > 0
    assert NOTICE in page
    assert step_form(page).value("legal_cotizaciones") == "parcial"  # shown checked
    assert 'value="next"' in page  # the normal save button
    assert "Traceback" not in page
    # The database is back: the same page saves with one press.
    saved = visitor.client.post(step_url, data=MultiDict(step_form(page).filled({})))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    visitor.get(step_url)
    assert step_form(visitor.page).value("legal_cotizaciones") == "parcial"


def test_profile_page_in_an_outage_keeps_typed_numbers(make_app):
    app = make_app(**SHIPPED)
    visitor = Visitor(app.test_client())
    visitor.get("/es/a/new")
    with database_fails(app):
        response = visitor.submit(EMPRESA, follow=False)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    form = step_form(page)
    assert form.value("p_dotacion_total") == EMPRESA["p_dotacion_total"]  # the typed number
    assert form.value("p_tipo_organizacion") == "empresa"
    assert 'lang="es"' in page
    assert visitor.client.post("/es/a/new", data=MultiDict(form.filled({}))).status_code == 302


def test_review_submit_in_an_outage_offers_to_send_it_again(make_app):
    app = make_app()
    visitor = Visitor(app.test_client())
    visitor.start()
    visitor.answer_all(best)
    review = visitor.url
    with database_fails(app):
        response = visitor.submit({}, url=review, follow=False)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    assert f'action="{review}"' in page
    fields = hidden_fields(page)
    assert fields["action"] == "next" and fields["csrf_token"]
    again = visitor.client.post(review, data=fields)
    assert again.status_code == 302 and again.headers["Location"].endswith("/results")


def test_join_in_an_outage_keeps_the_name_and_the_choice(make_app):
    app = make_app()
    create_association(app, "Cámara", "gremio@example.cl")
    client = app.test_client()
    login(client, "gremio@example.cl")
    campaign_id = new_campaign(client)
    with app.app_context():
        code = db.session.get(Campaign, campaign_id).code
    member = app.test_client()
    path = f"/es/c/{code}"
    token = Page(member.get(path).get_data(as_text=True)).csrf_token
    posted = {"csrf_token": token, "member_name": "Ñandú Kreyòl SpA", "sharing": "named"}
    with database_fails(app):
        response = member.post(path, data={**posted, "action": "next"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    fields = hidden_fields(page)
    assert fields["member_name"] == "Ñandú Kreyòl SpA" and fields["sharing"] == "named"
    again = member.post(path, data=fields)
    assert again.status_code == 302, again.get_data(as_text=True)[:500]


def test_a_login_posted_in_an_outage_never_echoes_the_password(make_app):
    app = make_app()
    client = app.test_client()
    token = Page(client.get("/es/associations/login").get_data(as_text=True)).csrf_token
    with database_fails(app):
        response = client.post(
            "/es/associations/login",
            data={"csrf_token": token, "email": "a@example.cl", "password": "s3cret-passphrase"},
        )
    assert response.status_code == 503
    assert "s3cret-passphrase" not in response.get_data(as_text=True)


# --- One log line per cause ----------------------------------------------------------


def _sqlite(message):
    return lambda statement: sa.exc.OperationalError(
        statement, {}, sqlite3.OperationalError(message)
    )


def _postgres(kind, message):
    wrapper = sa.exc.ProgrammingError if kind is psycopg.errors.UndefinedTable else None
    wrapper = wrapper or sa.exc.OperationalError
    return lambda statement: wrapper(statement, {}, kind(message))


CAUSES = {
    "disk full": (_sqlite("database or disk is full"), "the disk is full"),
    "locked": (_sqlite("database is locked"), "lock not obtained within the busy timeout"),
    "no table": (_sqlite("no such table: answers"), "schema missing"),
    "refused": (
        _postgres(
            psycopg.OperationalError,
            'connection failed: connection to server at "127.0.0.1", port 5 failed: '
            "Connection refused",
        ),
        "server unreachable",
    ),
    "terminated": (
        _postgres(psycopg.OperationalError, "server closed the connection unexpectedly"),
        "server unreachable",
    ),
    "undefined table": (
        _postgres(psycopg.errors.UndefinedTable, 'relation "answers" does not exist'),
        "schema missing",
    ),
    "statement timeout": (
        _postgres(psycopg.errors.QueryCanceled, "canceling statement due to statement timeout"),
        "did not answer in time",
    ),
}


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_each_database_fault_logs_its_own_cause(make_app, caplog, cause):
    make_error, words = CAUSES[cause]
    app = make_app(**SHIPPED)
    visitor = Visitor(app.test_client())
    visitor.start(EMPRESA)
    caplog.clear()
    with caplog.at_level(logging.INFO), database_fails(app, make_error):
        saved = visitor.submit({"legal_cotizaciones": "si"}, follow=False)  # assess handler
        page = visitor.client.get("/es/c/no-such-code")  # the app's handler
        health = visitor.client.get("/healthz")
    assert (saved.status_code, page.status_code, health.status_code) == (503, 503, 503)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3, errors
    assert all(words in message for message in errors), errors
    assert not any("Database unavailable" in message for message in errors), errors


def test_a_programming_error_that_is_not_a_missing_schema_stays_a_500(make_app):
    app = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    bug = _postgres(psycopg.errors.SyntaxError, 'syntax error at or near "SELEC"')

    def as_programming_error(statement):
        return sa.exc.ProgrammingError(statement, {}, bug(statement).orig)

    with database_fails(app, as_programming_error):
        assert client.get("/es/c/no-such-code").status_code == 500


def test_healthz_reports_low_disk_as_degraded(make_app):
    app = make_app(DISK_FREE_MIN_MB=10**9)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert body["disk"]["ok"] is False and body["disk"]["free_mb"] > 0
    assert body["rate_limit_storage"] == "memory"
