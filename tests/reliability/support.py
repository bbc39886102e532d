"""Helpers for the reliability tests (docs/SECURITY.md 2.7): a real WSGI server, a
small HTTP user agent with its own cookies, database checks (forms are read by
tests/support/pages.py).

Everything talks to 127.0.0.1 only, and every process started here is stopped
by the code that started it.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.models import hash_token  # noqa: F401  (the tests read stored rows by it)
from tests.support.pages import step_form
from tests.support.visitor import TOKEN_IN_URL

ROOT = Path(__file__).resolve().parents[2]
SECRET = "reliability-" + "0123456789abcdef" * 4  # >= 32 characters: not TESTING-only

# The reliability tests run the shipped questionnaire (app_config(..., **SHIPPED), and
# gunicorn's default): their load and fault cases need its long steps.
# The steps an organisation with the EMPRESA profile sees (tests/support/content.py).
STEPS = (
    "profile",
    "legal-1",
    "legal-2",
    "composicion_interna",
    "gestion-1",
    "gestion-2",
    "relacion_entorno-1",
    "relacion_entorno-2",
)
# Profile answers that decide which questions show: kept as in EMPRESA so the
# steps above stay the same whatever else the load test changes.
PROFILE_FIXED = (
    "p_tipo_organizacion",
    "p_regimen_laboral",
    "p_intermediarios",
    "p_contratistas",
    "p_atencion_publico",
)


def reliability_seconds(default: float = 5.0) -> float:
    """How long the load test runs: RELIABILITY_SECONDS (5 s by default, 30 s is the full run)."""
    value = os.environ.get("RELIABILITY_SECONDS", "").strip()
    return float(value) if value else default


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values, share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- HTTP ---------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict  # lower-case name -> list of values
    body: str
    seconds: float

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def location(self) -> str:
        return urlsplit(self.header("Location") or "").path


class Browser:
    """One user agent: a new connection per request, its own cookie jar, no redirects
    followed (the tests look at each 302). Safe to share between two threads (two tabs)."""

    def __init__(self, port: int, timeout: float = 60.0):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._lock = threading.Lock()

    def request(self, method: str, path: str, form=None) -> Response:
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept-Language": "es"}
        with self._lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            data = raw.read()
            seconds = time.perf_counter() - started
            collected: dict[str, list[str]] = {}
            for name, value in raw.getheaders():
                collected.setdefault(name.lower(), []).append(value)
        finally:
            connection.close()
        self._remember(collected.get("set-cookie", []))
        return Response(raw.status, collected, data.decode("utf-8", "replace"), seconds)

    def _remember(self, set_cookies):
        with self._lock:
            for line in set_cookies:
                pair, _, attributes = line.partition(";")
                name, _, value = pair.strip().partition("=")
                lowered = attributes.lower()
                if "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form) -> Response:
        return self.request("POST", path, form)


# --- Journey (forms are read by tests/support/pages.py) ----------------------------


def stored(question_kind: str, value):
    """The value a saved answer has in the database (JSON column)."""
    if question_kind == "checkbox":
        return sorted(value) if value else None
    if question_kind == "text":
        return int(value) if str(value).strip() else None  # the only text inputs are numbers
    return value


def token_of(response: Response) -> str:
    match = TOKEN_IN_URL.search(response.location + "/")
    if match is None:
        raise AssertionError(f"no token in redirect {response.status} {response.location!r}")
    return match.group(1)


def start_assessment(browser: Browser, profile: dict, lang: str = "es") -> tuple[str, Response]:
    """GET the profile page and POST it: (token, response)."""
    page = browser.get(f"/{lang}/a/new")
    assert page.status == 200, (page.status, page.body[:500])
    form = step_form(page.body)
    response = browser.post(f"/{lang}/a/new", form.filled(profile))
    assert response.status == 302, (response.status, response.body[:2000])
    return token_of(response), response


# --- Servers ------------------------------------------------------------------


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a process this module started (and its own process group), by id.
    SIGINT is gunicorn's quick shutdown (SIGTERM waits out the graceful timeout)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(grace)


def wait_for_health(port: int, process: subprocess.Popen, log_path: Path, limit: float = 90.0):
    deadline = time.monotonic() + limit
    probe = Browser(port, timeout=5)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"server exited with {process.returncode}:\n{log_path.read_text()[-4000:]}"
            )
        try:
            if probe.get("/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server did not answer /healthz in {limit} s:\n{log_path.read_text()}")


@contextmanager
def gunicorn(database_url: str, log_path: Path, workers: int = 4, threads: int = 1, **env):
    """The app as `make run` serves it (gunicorn, sync workers) on a free local port;
    threads > 1 switches to the gthread worker."""
    port = free_port()
    environment = os.environ.copy()
    environment.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET,
        BASE_URL="http://127.0.0.1",  # a server database needs it (docs/SECURITY.md T20)
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        # Many clients start assessments from 127.0.0.1 (that limit: tests/test_costs.py).
        NEW_ASSESSMENT_LIMIT_PER_ADDRESS="100000 per minute",
        **{k: str(v) for k, v in env.items()},
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--graceful-timeout",
        "2",  # the test is over: workers that take longer to exit are killed
        "--chdir",
        str(ROOT),
        "--preload",  # load the app once, then fork: a faster start on a small machine
        "wsgi:app",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_health(port, process, log_path)
        yield Server(port, process, log_path)
    finally:
        _stop(process)


# --- Databases ----------------------------------------------------------------


# The suite's own helpers: one app configuration and one migration for every test.
from app.config import normalize_database_url as sa_url  # noqa: E402
from tests.conftest import app_config  # noqa: E402,F401  (used by the test modules)
from tests.conftest import migrate_database as migrate  # noqa: E402


@contextmanager
def fresh_postgres_schema(base_url: str):
    """A migrated schema of its own on the server at base_url, dropped afterwards."""
    base = sa_url(base_url)
    schema = f"reliability_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in base else "?"
        url = f"{base}{separator}options=-csearch_path%3D{schema}"
        try:
            migrate(url)
            yield url
        finally:
            with admin.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def read_answers(database_url: str) -> dict:
    """{token hash: {question id: value}} for every assessment, plus saved steps."""
    from app.models import Answer
    from app.models import Assessment
    from app.models import SavedSection

    engine = sa.create_engine(sa_url(database_url))
    try:
        with engine.connect() as connection:
            answers: dict = {}
            for token_hash, question, value in connection.execute(
                sa.select(Assessment.token_hash, Answer.question_id, Answer.value).join(
                    Answer, Answer.assessment_id == Assessment.id
                )
            ):
                answers.setdefault(token_hash, {})[question] = value
            for (token_hash,) in connection.execute(sa.select(Assessment.token_hash)):
                answers.setdefault(token_hash, {})
            saved: dict = {}
            for token_hash, section, count in connection.execute(
                sa.select(Assessment.token_hash, SavedSection.section_id, sa.func.count())
                .join(SavedSection, SavedSection.assessment_id == Assessment.id)
                .group_by(Assessment.token_hash, SavedSection.section_id)
            ):
                saved.setdefault(token_hash, {})[section] = count
    finally:
        engine.dispose()
    return {"answers": answers, "saved": saved}


def dumps(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
