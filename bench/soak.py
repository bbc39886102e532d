"""Worker memory after a soak: the app under gunicorn, a mixed load for minutes, RSS sampled.

Run by hand, from the project root:

    .venv/bin/python bench/soak.py                  # 10 minutes (the target's soak)
    .venv/bin/python bench/soak.py --minutes 1      # a quick check
    .venv/bin/python bench/soak.py --visitors 4 --pdf-share 0.05 --interval 30

What it does:
1. Migrates a fresh temporary SQLite file (bench/dashboard.py's
   prepared_database and create_bench_app) and starts gunicorn as bench/http.py
   does (its Server: 2 sync workers, 127.0.0.1, a free port, `wsgi:app`), with
   the per-address limits on new assessments and PDFs raised: every request
   comes from 127.0.0.1.
2. For --minutes, --visitors Python threads each play visitors one after
   another, every one a new assessment in es, ht or en (so the workers' caches
   fill with distinct keys): the landing page, the profile form (a varied
   organisation: type, size, sector, region), then every step -- GET the page,
   answer its questions (the best answer or a random one; the best ones again
   if the page refuses them) and POST it with its session cookie, CSRF token and
   hidden fields, as a browser does -- the review page, the submission, the
   results page, sometimes the results in another language, and with
   --pdf-share the results PDF. Between visitors a thread sometimes reopens the
   results of an earlier assessment in a random language (returning visitors).
   Requests accept gzip, as browsers do.
3. Samples each worker's RSS (/proc/<pid>/status VmRSS) every --interval
   seconds, printing each sample as it goes; at the end prints the series, the
   largest RSS of each worker, the requests made (by kind and status code) and
   the workers' CPU per request.

Target (issue 17): worker RSS <= 120 MB after a 10-minute soak.
It stops by itself after --minutes, sends requests only to 127.0.0.1, and stops
every process it started and removes every temporary file, also on error or Ctrl-C.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py is named like the standard library's `http`: keep bench/ off sys.path.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import gzip  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import secrets  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from urllib.parse import urlencode  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from app.engine.loader import load_file  # noqa: E402
from app.extensions import db  # noqa: E402
from bench.dashboard import create_bench_app  # noqa: E402
from bench.dashboard import describe  # noqa: E402
from bench.engine import random_answer  # noqa: E402
from bench.http import GUNICORN  # noqa: E402
from bench.http import RSS_TARGET_KB  # noqa: E402
from bench.http import Server  # noqa: E402
from bench.http import children  # noqa: E402
from bench.http import cpu_times  # noqa: E402
from bench.http import fetch  # noqa: E402
from bench.http import free_port  # noqa: E402
from bench.http import header  # noqa: E402
from bench.http import rss_kb  # noqa: E402
from bench.http import session_cookie  # noqa: E402
from bench.http import with_servers  # noqa: E402
from tests.support.content import EMPRESA  # noqa: E402
from tests.support.pages import Page  # noqa: E402
from tests.support.pages import step_form  # noqa: E402

QUESTIONNAIRE = ROOT / "questionnaires" / "compromiso-migrante" / "v2.yaml"
LANGUAGES = ("es", "ht", "en")
ORGANISATION_TYPES = ("empresa", "sin_fines_lucro", "gremio")  # all hire under the Código
BEST_SHARE = 0.6  # questions answered with their best answer; the rest at random
OTHER_LANGUAGE_SHARE = 0.3  # visitors who also read their results in another language
RETURNING_SHARE = 0.3  # chance a thread reopens earlier results between two visitors


# --- Counting ------------------------------------------------------------------


class Tally:
    """Requests by kind and status code, from every thread."""

    def __init__(self):
        self.statuses: dict[str, Counter] = {}
        self.visitors = 0
        self.abandoned: list[str] = []  # why a visitor stopped before the results
        self._lock = threading.Lock()

    def count(self, kind: str, status: int) -> None:
        with self._lock:
            self.statuses.setdefault(kind, Counter())[status] += 1

    def finished(self) -> None:
        with self._lock:
            self.visitors += 1

    def abandon(self, reason: str) -> None:
        with self._lock:
            self.abandoned.append(reason)

    @property
    def requests(self) -> int:
        with self._lock:
            return sum(sum(c.values()) for c in self.statuses.values())


class Abandoned(Exception):
    """A response the visitor cannot go on from."""


class Browser:
    """One visitor's cookie and requests to 127.0.0.1; bodies gunzipped as a browser does."""

    def __init__(self, port: int, tally: Tally):
        self.port = port
        self.tally = tally
        self.cookie = None

    def request(self, kind, method, path, pairs=None, wanted=200):
        headers = {"Accept-Encoding": "gzip"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        body = urlencode(pairs) if pairs is not None else None
        status, response_headers, raw = fetch(self.port, method, path, headers, body)
        self.tally.count(kind, status)
        self.cookie = session_cookie(response_headers, self.cookie)
        if header(response_headers, "Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        if status != wanted:
            raise Abandoned(f"{kind} {method} {path}: HTTP {status}, expected {wanted}")
        location = header(response_headers, "Location")
        return raw.decode("utf-8", "replace"), urlsplit(location).path if location else None

    def get(self, kind, path, wanted=200):
        return self.request(kind, "GET", path, wanted=wanted)

    def post(self, kind, path, pairs, wanted=302):
        return self.request(kind, "POST", path, pairs, wanted=wanted)


# --- Visitors ------------------------------------------------------------------


def organisation(rng) -> dict:
    """Profile form values: EMPRESA with another type, size, sector and region."""
    total = max(1, int(math.exp(rng.uniform(0, 8))))  # 1 to ~3,000, log-uniform
    profile = dict(
        EMPRESA,
        p_tipo_organizacion=rng.choice(ORGANISATION_TYPES),
        p_dotacion_total=str(total),
        p_dotacion_extranjera=str(rng.randint(0, total)),
        p_intermediarios=rng.choice(("si", "no")),
        p_contratistas=rng.choice(("si", "no")),
        p_atencion_publico=rng.choice(("si", "no")),
        p_sector=rng.choice(("comercio", "construccion", "salud", "educacion", "otro")),
        p_region=rng.choice(("metropolitana", "valparaiso", "biobio", "tarapaca")),
    )
    if profile["p_tipo_organizacion"] == "gremio":
        profile["p_socios"] = str(rng.randint(5, 2000))
    return profile


def form_value(question, rng, best: bool):
    """What a browser sends for a question: text, or a list for check boxes."""
    value = question.best_answer() if best else random_answer(question, rng)
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v) for v in value]
    return str(value)


def answer_step(browser, path, questionnaire, rng) -> str:
    """GET a step, post answers to it; returns where it leads."""
    html, _ = browser.get("section GET", path)
    form = step_form(html)
    chosen = {
        q: form_value(questionnaire.fields[q], rng, rng.random() < BEST_SHARE)
        for q in form.questions
    }
    try:
        _, location = browser.post("section save", path, form.filled(chosen))
    except Abandoned:  # a random combination the page refused: answer as the best would
        best = {q: form_value(questionnaire.fields[q], rng, True) for q in form.questions}
        html, _ = browser.get("section GET", path)
        _, location = browser.post("section save (best)", path, step_form(html).filled(best))
    return location


def visit(port, questionnaire, pdf_share, rng, tally, results, stop) -> None:
    """One new visitor, from the landing page to the results."""
    browser = Browser(port, tally)
    lang = rng.choice(LANGUAGES)
    browser.get("landing", f"/{lang}/")
    html, _ = browser.get("profile GET", f"/{lang}/a/new")
    profile = step_form(html).filled(organisation(rng))
    _, path = browser.post("profile save", f"/{lang}/a/new", profile)
    for _ in range(len(questionnaire.sections) + 2):
        if stop.is_set() or path.endswith("/review"):
            break
        path = answer_step(browser, path, questionnaire, rng)
    if not path.endswith("/review"):
        if not stop.is_set():
            tally.abandon(f"never reached the review page: stayed on {path}")
        return
    html, _ = browser.get("review", path)
    _, results_path = browser.post("submit", path, [("csrf_token", Page(html).csrf_token)])
    browser.get("results", results_path)
    if rng.random() < OTHER_LANGUAGE_SHARE:
        other = rng.choice([choice for choice in LANGUAGES if choice != lang])
        browser.get("results, other language", results_path.replace(f"/{lang}/", f"/{other}/", 1))
    if rng.random() < pdf_share:
        browser.get("results PDF", results_path + ".pdf")
    results.append(results_path.split("/", 2)[2])  # "a/<token>/results"
    tally.finished()


def returning(port, rng, tally, results) -> None:
    """A returning visitor: earlier results in a random language."""
    if results:
        Browser(port, tally).get(
            "results, returning", f"/{rng.choice(LANGUAGES)}/{rng.choice(results)}"
        )


def visitor_thread(number, port, questionnaire, pdf_share, tally, results, stop) -> None:
    rng = random.Random(number)
    while not stop.is_set():
        try:
            visit(port, questionnaire, pdf_share, rng, tally, results, stop)
            if rng.random() < RETURNING_SHARE:
                returning(port, rng, tally, results)
        except Abandoned as error:
            tally.abandon(str(error))
        except OSError as error:  # the server went away (stopping, or a crash)
            if not stop.is_set():
                tally.abandon(f"connection: {error}")
                stop.wait(1)


# --- The run ---------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def sample(server, started, series) -> None:
    """Record and print the RSS of each worker now."""
    workers = children(server.process.pid)
    row = (time.monotonic() - started, {pid: rss_kb(pid) for pid in workers})
    series.append(row)
    listing = "  ".join(f"{pid}: {kb / 1024:6.1f} MB" for pid, kb in row[1].items() if kb)
    print(f"  {row[0] / 60:5.1f} min  {listing}", flush=True)


def soak(args, url, folder, servers) -> int:
    print(f"database: {describe(url)}")
    secret = secrets.token_hex(32)
    app = create_bench_app(url, secret)  # migrations
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "DATABASE_URL", "SECRET_KEY", "SQLALCHEMY"))
    }
    env.update(
        DATABASE_URL=url,
        SECRET_KEY=secret,
        PYTHONDONTWRITEBYTECODE="1",
        BASE_URL="http://127.0.0.1",
        # Every visitor comes from 127.0.0.1: lift the per-address limits.
        NEW_ASSESSMENT_LIMIT_PER_ADDRESS="1000000 per hour",
        PDF_LIMIT_PER_ADDRESS="1000000 per minute",
    )
    server = Server("app", "wsgi:app", free_port(), env, folder / "app.log")
    servers.append(server)
    server.start("/healthz")
    print(
        f"gunicorn 2 sync workers on 127.0.0.1:{server.port} (workers {server.workers}); "
        f"{args.visitors} visitor threads for {args.minutes:g} min, RSS every {args.interval} s"
    )

    questionnaire = load_file(QUESTIONNAIRE)
    tally, results, stop = Tally(), [], threading.Event()
    threads = [
        threading.Thread(
            target=visitor_thread,
            args=(number, server.port, questionnaire, args.pdf_share, tally, results, stop),
            daemon=True,  # never keeps the process alive after an error or Ctrl-C
        )
        for number in range(args.visitors)
    ]
    series = []
    started = time.monotonic()
    cpu_before = sum(cpu_times(server.workers))
    sample(server, started, series)
    for thread in threads:
        thread.start()
    deadline = started + args.minutes * 60
    try:
        while not stop.wait(min(args.interval, max(0, deadline - time.monotonic()))):
            sample(server, started, series)
            if time.monotonic() >= deadline:
                break
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    workers = children(server.process.pid)
    cpu = sum(cpu_times(workers)) - cpu_before
    return report(server, series, tally, results, cpu, workers)


def report(server, series, tally, results, cpu, workers) -> int:
    pids = sorted({pid for _, row in series for pid in row})
    print()
    print("worker RSS (MB):")
    print("   min  " + "".join(f"{pid:>10}" for pid in pids))
    for seconds, row in series:
        cells = "".join(f"{row[p] / 1024:10.1f}" if row.get(p) else f"{'-':>10}" for p in pids)
        print(f"{seconds / 60:6.1f}  {cells}")
    largest = {pid: max((row.get(pid) or 0) for _, row in series) for pid in pids}
    for pid, kb in largest.items():
        print(f"  worker {pid}: max {kb / 1024:.1f} MB")
    if set(workers) != set(series[0][1]):
        print(f"  (workers changed during the run: {sorted(series[0][1])} -> {workers})")
    print()
    requests = tally.requests
    print(
        f"{tally.visitors} visitors reached their results ({len(results)} assessments), "
        f"{requests} requests, workers' CPU {cpu:.0f} s = {1000 * cpu / max(1, requests):.1f} "
        "ms per request"
    )
    for kind, statuses in tally.statuses.items():
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
        print(f"  {kind:<26} {codes}")
    if tally.abandoned:
        print(f"visitors abandoned: {len(tally.abandoned)}; first: {tally.abandoned[0]}")
    top = max(largest.values(), default=0)
    print()
    print(
        f"largest worker RSS: {top / 1024:.1f} MB  target <= {RSS_TARGET_KB // 1024} MB: "
        f"{verdict(0 < top <= RSS_TARGET_KB)}"
    )
    return 0 if 0 < top <= RSS_TARGET_KB else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="length of the soak")
    parser.add_argument("--visitors", type=int, default=4, help="visitor threads")
    parser.add_argument("--interval", type=int, default=30, help="seconds between RSS samples")
    parser.add_argument(
        "--pdf-share", type=float, default=0.05, help="share of visitors who get the PDF"
    )
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= 120:
        parser.error("--minutes must be more than 0 and at most 120")
    if not GUNICORN.exists():
        print(f"gunicorn not found at {GUNICORN}: run `make install` first", file=sys.stderr)
        return 2

    return with_servers(
        None, "bench-soak-", lambda url, folder, servers: soak(args, url, folder, servers)
    )


if __name__ == "__main__":
    sys.exit(main())
