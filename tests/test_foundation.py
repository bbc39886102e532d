"""Settings, the database set-up and the health check."""

from __future__ import annotations

import os
import stat
import threading

import pytest
import sqlalchemy as sa

from app import create_app
from app.config import ConfigError
from app.database import OUTSIDE_TRANSACTION
from app.extensions import db
from app.models import Answer
from app.models import Assessment


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert response.get_json()["database"] == "ok"


def test_healthz_503_when_the_database_does_not_answer(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing-dir/none.sqlite")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert response.get_json()["database"] == "unavailable"


def test_secret_key_generated_once_for_embedded_sqlite(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first = create_app(dict(settings))
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    second = create_app(dict(settings))
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32


def test_server_database_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://postgres@127.0.0.1:5432/test"})


def test_short_secret_key_refused_outside_tests():
    with pytest.raises(ConfigError, match="at least 32 characters"):
        create_app({"SECRET_KEY": "dev", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_postgres_urls_use_psycopg_3(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("BASE_URL", "https://autodiagnostico.example.cl")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://u@h:5432/d"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h:5432/d"


def test_tables_come_from_migrations_only(app):
    """The schema is the migrations' (alembic_version exists) and no code calls create_all."""
    with app.app_context():
        tables = sa.inspect(db.engine).get_table_names()
    assert {"alembic_version", "assessments", "answers", "saved_sections"} <= set(tables)
    from pathlib import Path

    sources = Path(__file__).resolve().parent.parent / "app"
    assert not [p for p in sources.rglob("*.py") if "create_all(" in p.read_text()]


def test_sqlite_is_tuned(make_app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    app = make_app()
    with app.app_context():
        with db.engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 5000
            assert pragma("foreign_keys") == 1


def test_connections_outside_a_transaction_begin_none(app):
    """database.control_transactions: a Core connection with OUTSIDE_TRANSACTION, or in
    SQLAlchemy's AUTOCOMMIT, runs statements that no transaction may hold (VACUUM, on
    SQLite and PostgreSQL alike); a transaction on the same connection then begins."""
    with app.app_context():
        for options in ({OUTSIDE_TRANSACTION: True}, {"isolation_level": "AUTOCOMMIT"}):
            with db.engine.connect() as connection:
                connection.execution_options(**options).exec_driver_sql("VACUUM")
                connection.commit()
                connection.execution_options(
                    **{OUTSIDE_TRANSACTION: False},
                    isolation_level=connection.default_isolation_level,
                )
                with pytest.raises(sa.exc.DBAPIError):
                    connection.exec_driver_sql("VACUUM")


def test_concurrent_read_modify_write_loses_nothing(make_app):
    """docs/SECURITY.md 2.7 test 1: with default SQLite settings this lost most updates.

    16 threads x 25 increments of one answer row, each a read-modify-write in its
    own transaction (as a CLI task would): the final value must be exactly 400."""
    app = make_app()
    with app.app_context():
        assessment = Assessment(
            token_hash="x" * 64, questionnaire_id="q", questionnaire_version=1, language="es"
        )
        db.session.add(assessment)
        db.session.flush()
        db.session.add(Answer(assessment_id=assessment.id, question_id="n", value=0))
        db.session.commit()
        answer_id = db.session.scalar(sa.select(Answer.id))
    errors = []

    def work():
        for _ in range(25):
            with app.app_context():
                try:
                    with db.session.begin():
                        row = db.session.execute(
                            sa.select(Answer).where(Answer.id == answer_id).with_for_update()
                        ).scalar_one()
                        row.value = row.value + 1
                except Exception as error:  # collected, then asserted empty
                    errors.append(error)
                finally:
                    db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        assert errors == []
        assert db.session.get(Answer, answer_id).value == 400


def test_the_session_serializer_is_built_once_and_follows_the_secret_key(app):
    from itsdangerous import BadSignature

    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    cookie = first.dumps({"seen": 1})
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = "n" * 64, [app.secret_key]
    rotated = interface.get_signing_serializer(app)
    assert rotated is not first and rotated.loads(cookie) == {"seen": 1}
    app.config["SECRET_KEY_FALLBACKS"] = []
    with pytest.raises(BadSignature):
        interface.get_signing_serializer(app).loads(cookie)


def opened_session(app, cookie):
    """The session the app opens for a request that sends `cookie`."""
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context("/es/", headers={"Cookie": f"{name}={cookie}"}) as context:
        return app.session_interface.open_session(app, context.request)


def test_a_session_cookie_verified_once_still_expires_and_follows_the_keys(app, monkeypatch):
    """Verified cookies are kept per worker (cache.VERIFIED_SESSIONS): their age and the
    keys still decide, as when each cookie was verified on its own."""
    from app import security

    cookie = app.session_interface.get_signing_serializer(app).dumps({"csrf_token": "t"})
    assert opened_session(app, cookie) == {"csrf_token": "t"}
    assert opened_session(app, cookie) == {"csrf_token": "t"}  # kept
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = security.time.time() + lifetime + 5
    monkeypatch.setattr(security.time, "time", lambda: later)
    assert opened_session(app, cookie) == {}  # too old, though verified before
    monkeypatch.undo()
    assert opened_session(app, cookie) == {"csrf_token": "t"}
    app.secret_key = "n" * 64  # the old key retired, not kept as a fallback
    assert opened_session(app, cookie) == {}
    assert opened_session(app, cookie + "x") == {}  # a forged signature


def test_one_requests_session_changes_never_reach_another(app):
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {"csrf_token": "t", "_flashes": [["message", "Saved"]]}
    )
    first = opened_session(app, cookie)
    first["csrf_token"] = "changed"
    first["_flashes"].append(["message", "Another"])
    assert opened_session(app, cookie) == {"csrf_token": "t", "_flashes": [["message", "Saved"]]}
    plain = app.session_interface.get_signing_serializer(app).dumps({"csrf_token": "t"})
    opened_session(app, plain)["csrf_token"] = "changed"
    assert opened_session(app, plain) == {"csrf_token": "t"}
