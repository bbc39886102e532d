"""`flask data purge` leaves nothing of what it purges (docs/SECURITY.md T24).

On SQLite the deleted text is gone from the bytes of the database file and of its
write-ahead log (`secure_delete` on every connection, the log truncated after the
purge). On PostgreSQL these tests check that the rows are gone; the bytes stay in the
table files until VACUUM, which is the operator's job (docs/SECURITY.md T24)."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.accounts.auth import RESET_MAX_AGE
from app.extensions import db
from app.models import Answer
from app.models import Assessment
from app.models import Association
from app.models import Campaign
from app.models import PasswordReset
from app.models import Release
from app.models import ResultItem
from app.models import User
from app.models import utcnow
from tests.support.accounts import add_members
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.visitor import Visitor
from tests.support.visitor import best


def sqlite_files(database_url: str) -> list[Path]:
    path = Path(database_url.removeprefix("sqlite:///"))
    return [path, path.with_name(path.name + "-wal")]


def raw_bytes(database_url: str) -> bytes:
    return b"".join(p.read_bytes() for p in sqlite_files(database_url) if p.exists())


def without_compiled_secure_delete(app) -> None:
    """Open every new connection with secure_delete OFF before the app tunes it, as a
    SQLite built without SQLITE_SECURE_DELETE would (Debian's is built with it)."""

    def off(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA secure_delete=OFF")

    with app.app_context():
        event.listen(db.engine, "connect", off, insert=True)
        db.engine.dispose()


def age(app, days: int, *conditions) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Assessment)
            .where(*conditions)
            .values(updated_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def purge(app, *args):
    result = app.test_cli_runner().invoke(args=["data", "purge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions))


def test_purge_leaves_no_trace_in_the_sqlite_files(make_app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: on PostgreSQL, see the test below and docs/SECURITY.md T24")
    app = make_app()
    without_compiled_secure_delete(app)
    marker = f"MARCA-{uuid.uuid4().hex}"
    visitor = Visitor(app.test_client())
    visitor.start()
    visitor.answer_all(lambda q: marker if q.type == "text" else best(q))
    visitor.submit()
    staff = app.test_client()
    create_association(app, "Gremio", "g@example.cl")
    login(staff, "g@example.cl")
    add_members(app, new_campaign(staff), 2, name=marker)
    Visitor(app.test_client()).start()  # a recent assessment, kept
    assert raw_bytes(database_url).count(marker.encode()) >= 3  # the answer and two names
    with app.app_context():
        newest = db.session.scalar(sa.select(sa.func.max(Assessment.id)))
    age(app, 800, Assessment.id != newest)

    output = purge(app, "--older-than", "730")

    assert "deleted 3 assessment(s)" in output
    assert count(app, Assessment) == 1
    assert marker.encode() not in raw_bytes(database_url)
    wal = sqlite_files(database_url)[1]
    assert not wal.exists() or wal.stat().st_size == 0  # the log was truncated


def test_without_secure_delete_the_text_would_stay_in_the_file(tmp_path):
    """The control of the test above: SQLite frees a deleted row without erasing it."""
    path = tmp_path / "plain.sqlite"
    marker = f"MARCA-{uuid.uuid4().hex}"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA secure_delete=OFF")
    connection.execute("CREATE TABLE answers (id INTEGER PRIMARY KEY, value TEXT)")
    connection.executemany("INSERT INTO answers (value) VALUES (?)", [("kept",), (marker,)])
    connection.execute("DELETE FROM answers WHERE value = ?", (marker,))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert connection.execute("SELECT count(*) FROM answers").fetchone() == (1,)
    connection.close()
    assert marker.encode() in path.read_bytes()


def test_purged_rows_are_gone(app, client):
    """Both databases: nothing of a purged assessment is left in any table."""
    visitor = Visitor(client)
    visitor.start()
    visitor.answer_all(best)
    visitor.submit()
    Visitor(app.test_client()).start()
    with app.app_context():
        old = db.session.scalar(sa.select(sa.func.min(Assessment.id)))
    age(app, 800, Assessment.id == old)
    assert count(app, Answer, Answer.assessment_id == old) > 0
    assert count(app, ResultItem, ResultItem.assessment_id == old) > 0
    purge(app)
    assert count(app, Assessment, Assessment.id == old) == 0
    assert count(app, Answer, Answer.assessment_id == old) == 0
    assert count(app, ResultItem, ResultItem.assessment_id == old) == 0
    assert count(app, Assessment) == 1


def test_purge_deletes_expired_password_resets(app):
    create_association(app, "Gremio", "g@example.cl")
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        db.session.add_all(
            [
                PasswordReset(
                    user_id=user.id,
                    link="https://example.cl/expired",
                    created_at=utcnow() - timedelta(seconds=RESET_MAX_AGE + 60),
                ),
                PasswordReset(user_id=user.id, link="https://example.cl/fresh"),
            ]
        )
        db.session.commit()
    output = purge(app)
    assert "deleted 1 password reset link(s)" in output
    with app.app_context():
        assert db.session.scalars(sa.select(PasswordReset.link)).all() == [
            "https://example.cl/fresh"
        ]


@pytest.fixture
def association_with_members(app, client):
    """An association with a campaign of six members (a release) and a reset link waiting."""
    create_association(app, "Gremio", "g@example.cl")
    login(client, "g@example.cl")
    campaign = new_campaign(client)
    add_members(app, campaign, 6, named=True, name="Socia")
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        db.session.add(PasswordReset(user_id=user.id, link="https://example.cl/reset"))
        db.session.commit()
    Visitor(app.test_client()).start()  # an assessment outside any campaign
    assert count(app, Release, Release.campaign_id == campaign) >= 1
    return campaign


def delete_without_foreign_keys(app, statement) -> None:
    """What an operator's shell does when it does not enforce foreign keys (the sqlite3
    shell's default; on PostgreSQL, triggers disabled)."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            db.session.commit()
            raw = db.engine.raw_connection()
            try:
                raw.driver_connection.execute("PRAGMA foreign_keys=OFF")
                raw.driver_connection.execute(
                    str(statement.compile(compile_kwargs={"literal_binds": True}))
                )
            finally:
                raw.driver_connection.execute("PRAGMA foreign_keys=ON")
                raw.close()
        else:
            db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
            db.session.execute(statement)
            db.session.commit()


def test_purge_deletes_what_a_deleted_association_left_behind(app, association_with_members):
    delete_without_foreign_keys(app, sa.delete(Association))
    assert count(app, Campaign) == 1 and count(app, User) == 1  # left behind
    output = purge(app)
    assert "deleted 1 campaign(s) of deleted associations" in output
    assert "deleted 6 assessment(s) of deleted campaigns" in output
    assert "deleted 1 account(s) of deleted associations" in output
    assert count(app, Campaign) == 0
    assert count(app, User) == 0
    assert count(app, PasswordReset) == 0
    assert count(app, Release, Release.campaign_id.is_not(None)) == 0
    assert count(app, Assessment, Assessment.campaign_id.is_(None)) == count(app, Assessment) == 1
    assert count(app, Answer, Answer.assessment_id.not_in(sa.select(Assessment.id))) == 0


def test_what_remains_when_an_association_is_deleted_with_foreign_keys(
    app, association_with_members
):
    """The app has no way to delete an association; an operator deleting one in SQL
    (foreign keys enforced) takes its accounts, reset links, campaigns and releases with
    it, but its members' assessments stay, out of any campaign, with the names they gave
    (assessments.campaign_id is ON DELETE SET NULL). The purge cannot tell them from
    other assessments afterwards; they go when the retention period ends."""
    with app.app_context():
        db.session.execute(sa.delete(Association))
        db.session.commit()
    assert count(app, User) == 0
    assert count(app, PasswordReset) == 0
    assert count(app, Campaign) == 0
    assert count(app, Release, Release.campaign_id.is_not(None)) == 0
    purge(app)
    assert count(app, Assessment) == 7
    assert count(app, Assessment, Assessment.member_name.is_not(None)) == 6
    assert count(app, Assessment, Assessment.campaign_id.is_not(None)) == 0
