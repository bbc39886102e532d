"""PostgreSQL frozen or stopped (docs/SECURITY.md 2.7 items 18 and 19).

The private instance of test_postgres_fault.py (never the machine's shared server) is
frozen with SIGSTOP (postmaster and every backend: connections are accepted by the
kernel and never answered) or stopped with `pg_ctl stop -m immediate`. Pages, saves and
/healthz must answer 503 within the configured timeouts (DATABASE_CONNECT_TIMEOUT,
DATABASE_STATEMENT_TIMEOUT_MS), and a step or profile save must come back with what the
user typed; once the server is back, the same app saves again.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from app import create_app
from app.extensions import db
from tests.reliability.support import app_config
from tests.reliability.test_postgres_fault import friendly_503
from tests.reliability.test_postgres_fault import postgres_up  # noqa: F401 (fixture)
from tests.reliability.test_postgres_fault import private_postgres  # noqa: F401 (fixture)
from tests.support.content import EMPRESA
from tests.support.content import SHIPPED
from tests.support.pages import step_form
from tests.support.visitor import Visitor

pytestmark = pytest.mark.reliability

CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT_MS = 2000


def server_processes(instance) -> list[int]:
    """The private postmaster and its children (backends, checkpointer...), by id."""
    postmaster = int((instance.data / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(entry.name))
    return [postmaster, *children]


@contextmanager
def frozen(instance):
    pids = server_processes(instance)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def app_on(instance):
    return create_app(
        app_config(
            instance.url,
            DATABASE_CONNECT_TIMEOUT=CONNECT_TIMEOUT,
            DATABASE_STATEMENT_TIMEOUT_MS=STATEMENT_TIMEOUT_MS,
            **SHIPPED,
        )
    )


def check_kept(response, lang="es"):
    page = friendly_503(response, lang)
    assert step_form(page).value("legal_cotizaciones") == "parcial", page[:3000]
    return page


def test_frozen_postgres_answers_503_within_the_timeouts_and_keeps_the_input(postgres_up):  # noqa: F811
    app = app_on(postgres_up)
    visitor = Visitor(app.test_client())
    visitor.start(EMPRESA)
    step = visitor.url
    visitor.get(step)  # the pool holds a connection: the frozen server will not answer it
    bound = CONNECT_TIMEOUT + STATEMENT_TIMEOUT_MS / 1000 + 2.5
    with frozen(postgres_up):
        health, health_s = timed(lambda: app.test_client().get("/healthz"))
        saved, save_s = timed(
            lambda: visitor.submit({"legal_cotizaciones": "parcial"}, follow=False)
        )
        page, page_s = timed(lambda: visitor.client.get(step))
    print(
        f"\n[postgres frozen] healthz {health.status_code} in {health_s:.2f} s, "
        f"step save {saved.status_code} in {save_s:.2f} s, "
        f"page {page.status_code} in {page_s:.2f} s (bound {bound:.1f} s)"
    )
    assert health.status_code == 503 and health.get_json()["database"] == "unavailable"
    assert health_s < CONNECT_TIMEOUT + 2.5
    check_kept(saved)
    friendly_503(page)
    assert max(save_s, page_s) < bound
    # Thawed: the same app saves what the 503 page kept, with one press.
    form = MultiDict(step_form(saved.get_data(as_text=True)).filled({}))
    again = visitor.client.post(step, data=form)
    assert again.status_code == 302, again.get_data(as_text=True)[:500]
    with app.app_context():
        db.engine.dispose()


def test_stopped_postgres_keeps_the_step_and_the_profile_typed(postgres_up):  # noqa: F811
    app = app_on(postgres_up)
    visitor = Visitor(app.test_client())
    visitor.start(EMPRESA)
    step = visitor.url
    visitor.get(step)
    profile = Visitor(app.test_client())
    profile.get("/es/a/new")
    postgres_up.stop("immediate")
    saved, save_s = timed(lambda: visitor.submit({"legal_cotizaciones": "parcial"}, follow=False))
    started, start_s = timed(lambda: profile.submit(EMPRESA, follow=False))
    print(
        f"\n[postgres stopped] step save {saved.status_code} in {save_s:.2f} s, "
        f"profile {started.status_code} in {start_s:.2f} s"
    )
    check_kept(saved)
    page = friendly_503(started)
    assert step_form(page).value("p_dotacion_total") == EMPRESA["p_dotacion_total"]
    postgres_up.start()
    form = MultiDict(step_form(saved.get_data(as_text=True)).filled({}))
    assert visitor.client.post(step, data=form).status_code == 302
    with app.app_context():
        db.engine.dispose()
