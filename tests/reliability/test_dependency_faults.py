"""Dependencies that fail never turn into a 500 or a hang (docs/SECURITY.md 2.7 items
17 and 20).

Rate-limit storage (RATELIMIT_STORAGE_URI=redis://...): pointed at a closed local port
(Redis down), or at a private `redis-server` on a free local port stopped with SIGSTOP
(Redis frozen: it accepts connections and never answers; a silent local socket stands
in when the binary is missing). Pages, saves and logins must answer as usual within
2 s, /healthz must say "degraded" with 200, and the failure must be logged once.

SQLite's write-ahead log stays bounded: after a write larger than
`journal_size_limit`, the -wal file is cut back to the limit once checkpointed.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.reliability.support import app_config
from tests.reliability.support import free_port
from tests.support.content import EMPRESA
from tests.support.content import SHIPPED
from tests.support.pages import Page
from tests.support.visitor import Visitor

pytestmark = pytest.mark.reliability

LIMIT_SECONDS = 2.0


@contextmanager
def silent_server():
    """A local TCP server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        listener.close()


@contextmanager
def frozen_redis():
    """A private redis-server on a free local port, stopped with SIGSTOP (no data
    saved, removed afterwards); a silent socket when the binary is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        with silent_server() as port:
            yield port, "silent socket"
        return
    port = free_port()
    directory = tempfile.mkdtemp(prefix="reliability-redis-")
    process = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", directory, "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        os.kill(process.pid, signal.SIGSTOP)
        yield port, "redis-server stopped with SIGSTOP"
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def closed_port() -> int:
    return free_port()  # nothing listens there once the probe is closed


def timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def journey_under(app) -> dict:
    """Start an assessment, save a step, try a login, ask /healthz: {what: (status, s)}."""
    client = app.test_client()
    visitor = Visitor(client)
    figures = {}
    page, figures["GET new"] = timed(lambda: client.get("/es/a/new"))
    figures["GET new"] = (page.status_code, figures["GET new"])
    visitor.page, visitor.url = page.get_data(as_text=True), "/es/a/new"
    started, elapsed = timed(lambda: visitor.submit(EMPRESA, follow=False))
    figures["POST new"] = (started.status_code, elapsed)
    visitor.follow(started)
    saved, elapsed = timed(lambda: visitor.submit({"legal_cotizaciones": "si"}, follow=False))
    figures["POST step"] = (saved.status_code, elapsed)
    login_page = client.get("/es/associations/login").get_data(as_text=True)
    login, elapsed = timed(
        lambda: client.post(
            "/es/associations/login",
            data={
                "csrf_token": Page(login_page).csrf_token,
                "email": "nobody@example.cl",
                "password": "not the right passphrase",
            },
        )
    )
    figures["POST login"] = (login.status_code, elapsed)
    missing, elapsed = timed(lambda: client.get("/es/a/" + "x" * 43 + "/"))
    figures["GET unknown link"] = (missing.status_code, elapsed)
    health, elapsed = timed(lambda: client.get("/healthz"))
    figures["healthz"] = (health.status_code, elapsed)
    figures["healthz body"] = health.get_json()
    return figures


def check(figures: dict, label: str, caplog):
    print(f"\n[{label}] " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    assert figures["GET new"][0] == 200
    assert figures["POST new"][0] == 302
    assert figures["POST step"][0] == 302
    assert figures["POST login"][0] in (200, 302, 422)
    assert figures["GET unknown link"][0] == 404
    assert figures["healthz"][0] == 200
    assert figures["healthz body"]["status"] == "degraded"
    assert figures["healthz body"]["rate_limit_storage"] == "unavailable"
    assert figures["healthz body"]["database"] == "ok"
    for what, value in figures.items():
        if what != "healthz body":
            assert value[1] < LIMIT_SECONDS, (what, value)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors  # once a minute, not once a request; nothing else
    assert "Rate-limit storage unreachable" in errors[0]


def rate_limited_app(database_url: str, storage_uri: str):
    return create_app(app_config(database_url, RATELIMIT_STORAGE_URI=storage_uri, **SHIPPED))


def test_redis_down_serves_pages_and_logins(module_database_url, caplog):
    app = rate_limited_app(module_database_url, f"redis://127.0.0.1:{closed_port()}/14")
    with caplog.at_level(logging.INFO):
        figures = journey_under(app)
    check(figures, "redis down", caplog)
    with app.app_context():
        db.engine.dispose()


def test_frozen_redis_never_hangs_a_request(module_database_url, caplog):
    with frozen_redis() as (port, how):
        app = rate_limited_app(module_database_url, f"redis://127.0.0.1:{port}/14")
        with caplog.at_level(logging.INFO):
            figures = journey_under(app)
        check(figures, f"redis frozen ({how})", caplog)
    with app.app_context():
        db.engine.dispose()


def test_a_live_redis_is_reported_ok(module_database_url):
    probe = socket.socket()
    try:
        probe.settimeout(0.5)
        probe.connect(("127.0.0.1", 6379))
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    finally:
        probe.close()
    app = rate_limited_app(module_database_url, "redis://127.0.0.1:6379/14")
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok" and body["rate_limit_storage"] == "ok", body
    with app.app_context():
        db.engine.dispose()


# --- SQLite's write-ahead log stays bounded ----------------------------------------


def test_sqlite_wal_is_cut_back_to_its_limit(sqlite_template, tmp_path):
    path = tmp_path / "app.sqlite"
    shutil.copyfile(sqlite_template, path)
    wal = Path(f"{path}-wal")
    app = create_app(app_config(f"sqlite:///{path}", SQLITE_JOURNAL_SIZE_LIMIT_MB=1))
    limit = 1024 * 1024
    with app.app_context():
        with db.engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE wal_probe (id INTEGER PRIMARY KEY, b BLOB)")
        for _ in range(3):  # 3 x 2 MB transactions: the log grows past the limit
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text("INSERT INTO wal_probe (b) VALUES (randomblob(65536))"),
                    [{}] * 32,
                )
        grown = wal.stat().st_size
        raw = db.engine.raw_connection()  # outside a transaction, as SQLite requires
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            raw.close()
        with db.engine.begin() as connection:  # the next writer restarts the log
            connection.exec_driver_sql("INSERT INTO wal_probe (b) VALUES (x'00')")
        after = wal.stat().st_size
        db.engine.dispose()
    print(f"\n[sqlite wal] grew to {grown // 1024} KiB, {after // 1024} KiB after a checkpoint")
    assert grown > limit  # the test did exceed the limit
    assert after <= limit
