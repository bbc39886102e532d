"""A save when SQLite cannot take it (docs/SECURITY.md 2.7 items 3 and 5).

(a) another connection holds the write lock (`BEGIN IMMEDIATE`) for longer than
    the app's busy timeout; (b) the disk is full (`PRAGMA max_page_count`).
Either way the step POST must answer 503 with Retry-After, show the page again
with what the user chose (never a traceback), write nothing, log one error,
and save normally once the database is back.
"""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app import create_app
from app.extensions import db
from tests.reliability.support import app_config
from tests.support import api
from tests.support.content import SHIPPED
from tests.support.pages import step_form
from tests.support.visitor import Visitor

pytestmark = pytest.mark.reliability

BUSY_TIMEOUT_MS = 200
SPECIAL = ("dont_know", "na")
NOTICE = re.compile(r'<div class="notice notice-warning" role="alert">(.*?)</div>', re.S)


def snapshot(path) -> dict:
    """Everything a save could touch, read with a connection of its own."""
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: S608
            for table in ("assessments", "answers", "saved_sections")
        }
    finally:
        connection.close()


def errors_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@contextmanager
def write_lock_held(path):
    """Another process's writer: BEGIN IMMEDIATE, held until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


@pytest.fixture
def database_file(sqlite_template, tmp_path):
    path = tmp_path / "app.sqlite"
    shutil.copyfile(sqlite_template, path)
    return path


# --- (a) the write lock is held --------------------------------------------------


@pytest.fixture
def locked_save(database_file, caplog):
    """Post legal-1 while another connection holds the write lock; then release it."""
    app = create_app(
        app_config(f"sqlite:///{database_file}", SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS, **SHIPPED)
    )
    visitor = Visitor(app.test_client())
    visitor.start()
    step_url = visitor.url
    assert step_url.endswith("/s/legal-1")
    before = snapshot(database_file)
    caplog.clear()
    with caplog.at_level(logging.INFO), write_lock_held(database_file):
        started = time.perf_counter()
        response = visitor.submit({"legal_cotizaciones": "parcial"}, follow=False)
        elapsed = time.perf_counter() - started
    result = {
        "response": response,
        "page": visitor.page,
        "elapsed": elapsed,
        "unchanged": snapshot(database_file) == before,
        "errors": errors_logged(caplog),
        "visitor": visitor,
        "step_url": step_url,
    }
    yield result
    with app.app_context():
        db.engine.dispose()


def test_held_write_lock_answers_503_and_writes_nothing(locked_save, database_file):
    response = locked_save["response"]
    print(
        f"\n[held write lock] busy_timeout={BUSY_TIMEOUT_MS} ms status={response.status_code} "
        f"waited={locked_save['elapsed'] * 1000:.0f} ms errors logged={locked_save['errors']}"
    )
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert locked_save["elapsed"] >= BUSY_TIMEOUT_MS / 1000  # it did wait for the lock
    assert "Traceback" not in locked_save["page"]
    assert '<html lang="es">' in locked_save["page"]
    assert locked_save["unchanged"], "something was written while the save failed"
    assert len(locked_save["errors"]) == 1, locked_save["errors"]
    # The lock is gone: pressing the button again saves.
    visitor = locked_save["visitor"]
    visitor.get(locked_save["step_url"])
    assert visitor.submit({"legal_cotizaciones": "parcial"}, follow=False).status_code == 302
    answers = dict(
        (q, v) for _, _, q, v, _ in snapshot(database_file)["answers"] if q == "legal_cotizaciones"
    )
    assert answers == {"legal_cotizaciones": '"parcial"'}


def test_held_write_lock_page_keeps_the_users_input(locked_save):
    page = locked_save["page"]
    assert locked_save["response"].status_code == 503
    assert 'class="step-form"' in page, "the generic error page, not the step, was shown"
    assert step_form(page).value("legal_cotizaciones") == "parcial"  # shown checked
    assert NOTICE.search(page), "no notice telling the user the page was not saved"
    # one busy timeout, not two: the page is shown again without waiting for the lock
    assert locked_save["elapsed"] < 2 * BUSY_TIMEOUT_MS / 1000


@contextmanager
def lock_taken_right_after_the_answers_commit(app, database_file):
    """Another writer takes the write lock as soon as the transaction that saved the
    answers is committed (not when the one that ended the page's reads is), and holds
    it while the request goes on. Yields {"on": still waiting}."""
    holder = sqlite3.connect(database_file, isolation_level=None, timeout=5)
    armed = {"on": True, "wrote": False}

    def note_answer_writes(_connection, _cursor, statement, *_args):
        armed["wrote"] = armed["wrote"] or statement.startswith("INSERT INTO answers")

    with app.app_context():
        engine = db.engine
    commit = engine.dialect.do_commit

    def commit_then_another_writer_gets_the_lock(dbapi_connection):
        commit(dbapi_connection)
        if armed["on"] and armed["wrote"]:
            armed["on"] = False
            holder.execute("BEGIN IMMEDIATE")

    event.listen(engine, "before_cursor_execute", note_answer_writes)
    engine.dialect.do_commit = commit_then_another_writer_gets_the_lock
    try:
        yield armed
    finally:
        engine.dialect.do_commit = commit
        event.remove(engine, "before_cursor_execute", note_answer_writes)
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
        with app.app_context():
            db.engine.dispose()


def saved_cotizaciones(database_file) -> bool:
    return any(q == "legal_cotizaciones" for _, _, q, _, _ in snapshot(database_file)["answers"])


def test_lock_taken_right_after_the_commit_does_not_report_a_failed_save(database_file):
    app = create_app(
        app_config(f"sqlite:///{database_file}", SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS, **SHIPPED)
    )
    visitor = Visitor(app.test_client())
    visitor.start()
    with lock_taken_right_after_the_answers_commit(app, database_file) as armed:
        response = visitor.submit({"legal_cotizaciones": "parcial"}, follow=False)
    assert not armed["on"], "the save never committed"
    assert saved_cotizaciones(database_file)
    assert response.status_code == 302, "the answers were saved, yet the page says they were not"


def test_the_api_reads_after_its_save_without_queueing_for_the_lock(database_file):
    """The API's answer reads the saved sections after its commit: that read must not
    wait for the write lock (database.write_transaction marks the writes done)."""
    app = create_app(
        app_config(f"sqlite:///{database_file}", SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS, **SHIPPED)
    )
    client = app.test_client()
    token = api.start(client)
    with lock_taken_right_after_the_answers_commit(app, database_file) as armed:
        response = client.put(
            f"{api.API}/assessment/sections/legal-1",
            json={"answers": {"legal_cotizaciones": "parcial"}},
            headers=api.bearer(token),
        )
    assert not armed["on"], "the save never committed"
    assert saved_cotizaciones(database_file)
    assert response.status_code == 200, response.get_json()


# --- (b) the disk is full ------------------------------------------------------------


@pytest.fixture
def full_disk(database_file):
    """An app whose new connections cannot grow the file (`max_page_count` = current size)
    once `state["full"]` is set. The file is rebuilt with 512-byte pages so that a
    step of nine answers cannot fit in the free room of existing pages."""
    shrink = sqlite3.connect(database_file, isolation_level=None)
    try:
        shrink.execute("PRAGMA journal_mode=DELETE")
        shrink.execute("PRAGMA page_size=512")
        shrink.execute("VACUUM")
        shrink.execute("PRAGMA journal_mode=WAL")
        assert shrink.execute("PRAGMA page_size").fetchone()[0] == 512
    finally:
        shrink.close()
    app = create_app(app_config(f"sqlite:///{database_file}", **SHIPPED))
    state = {"full": False, "limits": []}

    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def no_room_to_grow(dbapi_connection, _record):
            if state["full"]:
                cursor = dbapi_connection.cursor()
                pages = cursor.execute("PRAGMA page_count").fetchone()[0]
                cursor.execute(f"PRAGMA max_page_count={pages}")
                state["limits"].append(pages)
                cursor.close()

    def set_full(value: bool):
        state["full"] = value
        with app.app_context():
            db.engine.dispose()  # the next connection gets (or loses) the limit

    yield app, set_full, state
    with app.app_context():
        db.engine.dispose()


def save_on_full_disk(app, set_full, database_file, lang, caplog):
    visitor = Visitor(app.test_client(), lang)
    visitor.start()
    step_url = visitor.url.rsplit("/s/", 1)[0] + "/s/composicion_interna"
    visitor.get(step_url)
    form = step_form(visitor.page)
    answers = {q: [o for o in form.options[q] if o not in SPECIAL][-1] for q in form.questions}
    assert len(answers) >= 9
    before = snapshot(database_file)
    caplog.clear()
    set_full(True)
    try:
        with caplog.at_level(logging.INFO):
            response = visitor.submit(answers, follow=False)
    finally:
        set_full(False)
    return {
        "response": response,
        "page": visitor.page,
        "answers": answers,
        "unchanged": snapshot(database_file) == before,
        "errors": errors_logged(caplog),
        "visitor": visitor,
        "step_url": step_url,
    }


@pytest.mark.parametrize("lang", ["es", "ht", "en"])
def test_full_disk_answers_503_and_keeps_the_users_input(full_disk, database_file, lang, caplog):
    app, set_full, state = full_disk
    result = save_on_full_disk(app, set_full, database_file, lang, caplog)
    response, page = result["response"], result["page"]
    print(
        f"\n[disk full, {lang}] max_page_count={state['limits']} status={response.status_code} "
        f"errors logged={result['errors']}"
    )
    assert state["limits"], "the page limit was never applied"
    assert response.status_code == 503, page[:500]
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in page
    assert f'<html lang="{lang}">' in page
    shown = step_form(page)
    assert {q: shown.value(q) for q in result["answers"]} == result["answers"]
    assert NOTICE.search(page)
    assert result["unchanged"], "something was written while the save failed"
    assert len(result["errors"]) == 1, result["errors"]
    # Room again: the same answers save.
    visitor = result["visitor"]
    visitor.get(result["step_url"])
    assert visitor.submit(result["answers"], follow=False).status_code == 302
    saved = {q for _, _, q, _, _ in snapshot(database_file)["answers"]}
    assert set(result["answers"]) <= saved


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_full_disk_notice_is_translated(full_disk, database_file, lang, caplog):
    """The notice on the 503 page is in the page's language, not the English source
    (needs compiled catalogs: `make compile`, which `make test` runs first)."""
    app, set_full, _ = full_disk
    english = NOTICE.search(save_on_full_disk(app, set_full, database_file, "en", caplog)["page"])
    result = save_on_full_disk(app, set_full, database_file, lang, caplog)
    assert result["response"].status_code == 503
    assert f'<html lang="{lang}">' in result["page"]
    notice = NOTICE.search(result["page"])
    assert english and notice
    assert notice.group(1).strip() != english.group(1).strip(), notice.group(1)
