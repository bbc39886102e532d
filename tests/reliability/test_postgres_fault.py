"""PostgreSQL goes away and comes back (docs/SECURITY.md 2.7 item 5).

A private PostgreSQL instance (initdb into a temporary directory, its own port
on 127.0.0.1, run as the `postgres` OS user) is stopped with
`pg_ctl stop -m immediate` while the app is saving. The app must answer 503
(health check, pages and saves, never a traceback), then work again as soon as
the server is back, without being restarted (dbguard.ping_after_idle), and keep every
save it had acknowledged. The machine's shared PostgreSQL is never touched.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import traceback
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app import dbguard
from app.extensions import db
from tests.reliability.support import app_config
from tests.reliability.support import free_port
from tests.reliability.support import migrate
from tests.reliability.support import sa_url
from tests.support.content import EMPRESA
from tests.support.content import SHIPPED
from tests.support.visitor import Visitor

pytestmark = pytest.mark.reliability


def postgres_binaries() -> Path | None:
    def version(path):
        return [int(p) for p in re.findall(r"\d+", Path(path).parent.name)] or [0]

    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(Path(directory) / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return Path(directory)
    return None


def why_not_runnable() -> str | None:
    if postgres_binaries() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin"
    if shutil.which("runuser") is None:
        return "runuser is missing (needed to run initdb and pg_ctl as the postgres user)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no 'postgres' OS user to run a private PostgreSQL instance"
    if os.geteuid() != 0:
        return "runuser needs root to start a private PostgreSQL instance as 'postgres'"
    return None


class PrivatePostgres:
    """One throw-away cluster in a temporary directory, on a free local port."""

    def __init__(self):
        self.bin = postgres_binaries()
        self.base = Path(tempfile.mkdtemp(prefix="reliability-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        account = pwd.getpwnam("postgres")
        os.chown(self.base, account.pw_uid, account.pw_gid)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command, timeout=120):
        result = subprocess.run(  # noqa: S603
            ["runuser", "-u", "postgres", "--", *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.base,
        )
        if result.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(f"{command[0]} failed: {result.stdout}{result.stderr}\n{tail}")
        return result

    def init(self):
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self):
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.base} -c max_connections=40"
        )
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode="immediate"):
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self):
        try:
            if self.running():
                try:
                    self.stop()
                except (RuntimeError, subprocess.TimeoutExpired):
                    pid = int((self.data / "postmaster.pid").read_text().split()[0])
                    os.kill(pid, signal.SIGKILL)  # our own postmaster, by its id
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres():
    reason = why_not_runnable()
    if reason:
        pytest.skip(reason)
    instance = PrivatePostgres()
    try:
        instance.init()
        instance.start()
        migrate(instance.url)
        yield instance
    finally:
        instance.destroy()


@pytest.fixture
def postgres_up(private_postgres):
    """Each test starts with the private server running, whatever the last one did."""
    if not private_postgres.running():
        private_postgres.start()
    yield private_postgres
    if not private_postgres.running():
        private_postgres.start()


class Saver(threading.Thread):
    """A user who keeps saving legal-1 while the database comes and goes."""

    VALUES = ("si", "parcial", "no")

    def __init__(self, app):
        super().__init__(name="saver", daemon=True)
        self.visitor = Visitor(app.test_client())
        self.visitor.start()
        self.url = self.visitor.url
        self.stop = threading.Event()
        self.statuses: dict = {}
        self.acked = None
        self.unsure: set = set()  # tried after the last 302: committed or not
        self.acks_after_restart = threading.Event()
        self.restarted = False
        self.problems: list[str] = []

    def run(self):
        attempt = 0
        while not self.stop.is_set():
            attempt += 1
            value = self.VALUES[attempt % 3]
            try:
                page = self.visitor.client.get(self.url)
                self.count(("GET", page.status_code))
                if page.status_code != 200:
                    time.sleep(0.05)
                    continue
                self.visitor.page = page.get_data(as_text=True)
                self.unsure.add(value)
                response = self.visitor.submit(
                    {"legal_cotizaciones": value}, url=self.url, follow=False
                )
                self.count(("POST", response.status_code))
                if response.status_code == 302:
                    self.acked, self.unsure = value, set()
                    if self.restarted:
                        self.acks_after_restart.set()
                elif response.status_code != 503:
                    self.problems.append(f"POST {response.status_code}")
            except Exception:  # reported by the test, with where it came from
                self.problems.append(traceback.format_exc())
                time.sleep(0.05)

    def count(self, key):
        self.statuses[key] = self.statuses.get(key, 0) + 1


def friendly_503(response, lang="es"):
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in page and "OperationalError" not in page
    assert f'<html lang="{lang}">' in page
    return page


def stored_answers(url: str) -> dict:
    engine = sa.create_engine(sa_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT assessment_id, question_id, value FROM answers")
            ).all()
    finally:
        engine.dispose()
    result: dict = {}
    for assessment_id, question, value in rows:
        result.setdefault(assessment_id, {})[question] = value
    return result


def test_app_answers_503_while_postgres_is_down_and_recovers_without_restart(postgres_up):
    private_postgres = postgres_up
    app = create_app(app_config(private_postgres.url, **SHIPPED))
    visitor = Visitor(app.test_client())
    visitor.start(EMPRESA)
    visitor.submit({"legal_cotizaciones": "si", "legal_protocolo_karin": "parcial"})
    visitor.submit({"legal_documentos_identidad": "nunca"})  # legal-2
    committed = stored_answers(private_postgres.url)
    step = visitor.url.rsplit("/s/", 1)[0] + "/s/legal-1"
    visitor.get(step)  # the page the user has open when the database goes away

    saver = Saver(app)
    saver.start()
    timeline = {}
    try:
        time.sleep(0.5)
        started = time.perf_counter()
        private_postgres.stop("immediate")  # mid-run: the saver is saving
        timeline["stop"] = time.perf_counter() - started

        health = app.test_client().get("/healthz")
        assert health.status_code == 503
        assert health.get_json()["status"] == "unavailable"
        friendly_503(visitor.client.get(step))
        friendly_503(visitor.client.get(f"/ht{step[3:]}"), lang="ht")
        posted = visitor.submit({"legal_cotizaciones": "no"}, follow=False)
        friendly_503(posted)
        time.sleep(0.5)

        started = time.perf_counter()
        private_postgres.start()
        timeline["start"] = time.perf_counter() - started
        saver.restarted = True
        health = app.test_client().get("/healthz")  # the first request after the restart
        assert health.status_code == 200, health.get_data(as_text=True)
        assert health.get_json()["status"] == "ok"
        assert saver.acks_after_restart.wait(30), "the saver never saved again"
    finally:
        saver.stop.set()
        saver.join(60)

    visitor.get(step)
    assert visitor.submit({"legal_cotizaciones": "no"}, follow=False).status_code == 302
    after = stored_answers(private_postgres.url)
    print(
        f"\n[postgres fault] stop -m immediate {timeline['stop']:.2f} s, "
        f"start {timeline['start']:.2f} s, saver statuses={saver.statuses}, "
        f"exceptions={len(saver.problems)}"
    )
    # Even a page whose database died between its last query and the end of the
    # request is answered (the teardown drops the dead connection).
    assert not saver.problems, saver.problems
    assert set(saver.statuses) <= {("GET", 200), ("GET", 503), ("POST", 302), ("POST", 503)}
    assert saver.statuses.get(("POST", 503)) or saver.statuses.get(("GET", 503))
    # Everything committed before the stop is still there (apart from what was saved since).
    for assessment_id, answers in committed.items():
        for question, value in answers.items():
            if question != "legal_cotizaciones":
                assert after[assessment_id][question] == value, (question, value)
    mine = next(a for a, answers in after.items() if answers.get("legal_documentos_identidad"))
    assert after[mine]["legal_cotizaciones"] == "no"
    (saver_row,) = [answers for a, answers in after.items() if a != mine]
    # its last acknowledged value, or one it tried after that (a commit may have
    # reached the server just before the connection broke)
    assert saver_row.get("legal_cotizaciones") in {saver.acked} | saver.unsure
    with app.app_context():
        db.engine.dispose()


def test_database_lost_after_the_last_query_of_a_page_is_not_a_500(postgres_up):
    app = create_app(app_config(postgres_up.url, **SHIPPED))
    lose_database = threading.Event()

    @app.after_request
    def server_dies_now(response):  # the page is rendered; its read transaction is open
        if lose_database.is_set():
            lose_database.clear()
            postgres_up.stop("immediate")
        return response

    visitor = Visitor(app.test_client())
    visitor.start(EMPRESA)
    step = visitor.url
    lose_database.set()
    try:
        response = visitor.client.get(step)
    except sa.exc.OperationalError as error:
        pytest.fail(f"the request raised after its response was ready: {error!r}"[:300])
    finally:
        with app.app_context():
            db.engine.dispose()
    assert not postgres_up.running()
    assert response.status_code == 200  # the page was ready: the teardown's failure is logged
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_connection_idle_across_a_restart_is_replaced_and_a_busy_one_is_not_pinged(
    postgres_up, monkeypatch
):
    """dbguard.ping_after_idle: the pool pings only connections idle for a while. The app
    is idle while the server restarts: its pooled connection is dead, and the first
    page after the restart must still be served. While pages follow each other, no
    ping is sent (it was a round trip on every request)."""
    app = create_app(app_config(postgres_up.url, **SHIPPED))
    pings = []
    with app.app_context():
        dialect = db.engine.dialect
        monkeypatch.setattr(dialect, "do_ping", counted(dialect.do_ping, pings))
    client = app.test_client()
    try:
        for _ in range(5):  # a busy worker: each request right after the last
            assert client.get("/healthz").status_code == 200
        assert pings == []

        postgres_up.stop("immediate")
        postgres_up.start()
        time.sleep(dbguard.PING_AFTER_IDLE_SECONDS)
        response = client.get("/healthz")  # the pooled connection died with the server
        assert response.status_code == 200, response.get_data(as_text=True)
        assert len(pings) == 1
    finally:
        with app.app_context():
            db.engine.dispose()


def counted(ping, calls: list):
    def counting(dbapi_connection):
        calls.append(dbapi_connection)
        return ping(dbapi_connection)

    return counting
