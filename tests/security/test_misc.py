"""T8, T11, T15, T19, T22 and data protection."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.engine import QuestionnaireError
from app.extensions import db
from app.models import Answer
from app.models import Assessment
from app.models import ResultItem
from app.models import utcnow
from tests.conftest import TEST_SECRET
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.visitor import Visitor
from tests.support.visitor import best

SOURCES = Path(__file__).resolve().parents[2] / "app"


def test_double_submit_keeps_one_result(app, client):
    visitor = Visitor(client)
    visitor.start()
    visitor.answer_all(best)
    for _ in range(2):
        response = client.post(
            f"/es/a/{visitor.token}/review", data={"csrf_token": visitor.csrf_token}
        )
        assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(ResultItem.kind == "overall")) == 1
        )


def test_idle_account_sessions_end(app, client, monkeypatch):
    create_association(app, "A", "a@example.cl")
    login(client, "a@example.cl")
    assert client.get("/es/associations/").status_code == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/es/associations/").status_code == 302


def test_no_raw_sql_built_from_strings():
    """SQL goes through the ORM with bound values; the only formatted statement is a
    PRAGMA taking an int (PRAGMAs accept no bound parameters)."""
    for path in SOURCES.rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"(text|execute|exec_driver_sql)\(\s*f[\"']", line):
                assert re.search(r"f\"PRAGMA \w+=\{int\(", line), (path, line)


def test_no_debug_mode_or_hard_coded_secrets():
    for path in [*SOURCES.rglob("*.py"), SOURCES.parent / "wsgi.py"]:
        text = path.read_text(encoding="utf-8")
        assert "debug=True" not in text, path
        assert not re.search(r"SECRET_KEY\"?\]?\s*=\s*[\"'][^\"']+[\"']", text), path


def test_an_invalid_questionnaire_stops_the_start(tmp_path, database_url):
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "broken.yaml").write_text("id: roto\nversion: 1\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": TEST_SECRET,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "BASE_URL": "http://localhost",
                "QUESTIONNAIRES_DIR": str(tmp_path / "q"),
            }
        )


def test_purge_deletes_only_old_assessments(app, client):
    old, recent = Visitor(client), Visitor(app.test_client())
    old.start()
    recent.start()
    with app.app_context():
        first = db.session.scalar(sa.select(Assessment).order_by(Assessment.id))
        first.updated_at = utcnow() - timedelta(days=800)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["data", "purge", "--older-than", "730"])
    assert "deleted 1 assessment" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 1
        owners = set(db.session.scalars(sa.select(Answer.assessment_id)))
        assert owners == {db.session.scalar(sa.select(Assessment.id))}
    assert client.get(f"/es/a/{old.token}/").status_code == 404


def test_a_form_left_open_for_hours_still_saves(app, client, monkeypatch):
    """docs/SECURITY.md 2.7 test 7: CSRF tokens live as long as the session, not an hour."""
    visitor = Visitor(client)
    visitor.start()
    later = time.time() + 3 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    response = visitor.submit({"legal_cotizaciones": "si"}, follow=False)
    assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(Answer.value).where(Answer.question_id == "legal_cotizaciones")
            )
            == "si"
        )


def test_account_sessions_have_an_absolute_lifetime(make_app, monkeypatch):
    """Flask checks the signed cookie's age against PERMANENT_SESSION_LIFETIME (12 h),
    even for a session that was never idle (idle limit lifted here)."""
    app = make_app(SESSION_IDLE_MINUTES=10_000)
    client = app.test_client()
    create_association(app, "A", "a@example.cl")
    login(client, "a@example.cl")
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600
    assert client.get("/es/associations/").status_code == 200
    later = time.time() + 13 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/es/associations/").status_code == 302
