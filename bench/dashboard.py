"""Time an association's campaign dashboard and its CSV and XLSX exports over --count
submitted members (10,000 by default; issue 17 asks about 100,000).

Run by hand, from the project root:

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --database-url postgresql://postgres@127.0.0.1:5432/test

Without --database-url the run uses a fresh SQLite file in a temporary folder
(deleted at the end). With a PostgreSQL URL it creates a schema of its own
(`bench_<random>`, selected with `?options=-csearch_path%3D<schema>` as
tests/conftest.py does) and drops it at the end, so the database is left as
it was. A SQLite URL given explicitly is used as it is (and kept).

What it does:
1. create_app() on that database, run the migrations;
2. create one approved association with one user, and one campaign;
3. bulk-load --count submitted assessments into the campaign with SQLAlchemy
   Core executemany inserts (assessments, answers, result_items), scored by
   the engine from 200 distinct random answer sets, --named-share of them
   (10 %) sharing their named result -- the export's rows --, plus --count / 10
   started but unsubmitted ones;
4. with --release, make the campaign's release (figures and breakdowns) as a
   submission would, so the dashboard and the exports show every section (on
   PostgreSQL at 100,000 members it needs DATABASE_STATEMENT_TIMEOUT_MS=120000
   in the environment: its breakdowns' medians take longer than 5 s);
5. log in through the login form with the Flask test client, then time
   GET /es/associations/campaigns/<id> (2 warm-ups, then --repeat timed
   requests) and .../export.csv and .../export.xlsx (whole body; 1 warm-up,
   then --export-repeat), and count the SQL statements each request runs (a
   `before_cursor_execute` listener; on SQLite the app's own `BEGIN` counts
   as one). Wall time and the process's CPU time (time.process_time: the
   machine is shared) are both printed;
6. measure one more request of each export for memory: the process's peak
   resident memory during the request above its resident memory before it
   (VmHWM, reset through /proc/self/clear_refs; it sees the database
   driver's C buffers too), and the tracemalloc peak of Python objects (a
   separate request: tracing slows it down). An export that streams keeps
   both flat from 10,000 to 100,000 rows.

With --explain FOLDER it also writes the plan of every SELECT one request of
each page runs to FOLDER/explain-<database>-<page>.txt: EXPLAIN QUERY PLAN on
SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL (which runs the query again).

Targets (issue 17): dashboard p50 <= 40 ms over 100,000 assessments; each
export < 3 s with flat memory. Everything stops by itself: the run is bounded
by --repeat, --export-repeat and the data size.

bench/http.py imports the loader of this file (prepared_database,
create_bench_app, seed_association, load_campaign) to seed its own database.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import math
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py is named like the standard library's `http`: with bench/ on sys.path
# (as for `python bench/dashboard.py`), `import http.client` would load it. Keep it off.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from app.assess.store import _encode  # noqa: E402
from app.engine import score  # noqa: E402
from app.engine.scoring import State  # noqa: E402
from app.engine.scoring import normalize_all  # noqa: E402
from app.engine.scoring import visible_profile  # noqa: E402
from app.engine.scoring import walk  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Answer  # noqa: E402
from app.models import Assessment  # noqa: E402
from app.models import Association  # noqa: E402
from app.models import Campaign  # noqa: E402
from app.models import ResultItem  # noqa: E402
from app.models import User  # noqa: E402
from app.models import hash_token  # noqa: E402
from app.models import new_token  # noqa: E402
from app.models import utcnow  # noqa: E402
from app.reporting.result_rows import result_rows  # noqa: E402
from bench.engine import random_answer  # noqa: E402

EMAIL = "bench@gremio.example"
PASSWORD = "correct horse battery staple"  # noqa: S105 (a throw-away bench account)
BENCH_SECRET = "x" * 40
DASHBOARD_TARGET_MS = 40
EXPORT_TARGET_MS = 3000


# --- The database ------------------------------------------------------------


def normalize_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@contextlib.contextmanager
def prepared_database(url: str | None):
    """Yield a database URL to use: a fresh temporary SQLite file, or a fresh
    PostgreSQL schema dropped afterwards. Cleans up even on error."""
    if not url:
        folder = Path(tempfile.mkdtemp(prefix="bench-db-"))
        try:
            yield f"sqlite:///{folder / 'bench.sqlite'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    url = normalize_url(url)
    if url.startswith("sqlite:"):
        yield url
        return
    if not url.startswith("postgresql"):
        raise SystemExit(f"unsupported database URL: {url.split(':', 1)[0]}")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def create_bench_app(url: str, secret: str = BENCH_SECRET):
    """The app on `url`, migrated."""
    from flask_migrate import upgrade

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secret,
            "TESTING": True,
            "BASE_URL": "http://127.0.0.1",  # a server database needs it
        }
    )
    with app.app_context():
        upgrade()
    return app


def describe(url: str) -> str:
    if url.startswith("sqlite"):
        return "SQLite " + url.split("///", 1)[-1]
    schema = url.rsplit("search_path%3D", 1)[-1] if "search_path%3D" in url else "public"
    return f"PostgreSQL (schema {schema})"


def seed_association(app) -> int:
    """One approved association with one user, and one campaign; returns the campaign id."""
    from app.accounts.auth import hash_password

    with app.app_context():
        questionnaire = app.extensions["questionnaires"].get(app.config["QUESTIONNAIRE"])
        association = Association(
            name="Cámara Gremial de Benchmark", status="approved", approved_at=utcnow()
        )
        user = User(email=EMAIL, password_hash=hash_password(PASSWORD), association=association)
        campaign = Campaign(
            association=association,
            name="Campaña 10.000 socios",
            code=Campaign.new_code(),
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
            message="Estimados socios: respondan antes de fin de mes.",
        )
        db.session.add_all([association, user, campaign])
        db.session.commit()
        return campaign.id


# --- Realistic answer sets ---------------------------------------------------


def random_profile(questionnaire, rng) -> dict:
    """A plausible organisation: staff from 1 to ~3,000 (log-uniform), foreign staff below it."""
    profile = {f.id: random_answer(f, rng) for f in questionnaire.profile}
    total = max(1, int(math.exp(rng.uniform(0, 8))))
    numbers = {
        "p_dotacion_total": total,
        "p_dotacion_extranjera": rng.randint(0, total),
        "p_socios": rng.randint(5, 2000),
    }
    for question in questionnaire.profile:
        if question.id in numbers and question.type == "number":
            profile[question.id] = numbers[question.id]
    return profile


@dataclass
class AnswerSet:
    profile: dict  # engine values as they would be stored (shown fields only)
    answers: dict  # engine values of the questions shown and answered
    overall: int | None
    level: str
    items: list  # result_rows() with assessment_id to fill in


def answer_sets(questionnaire, count: int, rng) -> list[AnswerSet]:
    """`count` scored answer sets of varied quality: every readiness level occurs."""
    sets = []
    for _ in range(count):
        quality = rng.random()  # share of best answers outside the legal baseline
        compliant = rng.random() < 0.6  # most legal must-haves in place
        profile = normalize_all(questionnaire, random_profile(questionnaire, rng), profile=True)
        shown, _ = visible_profile(questionnaire, profile)
        profile = {k: v for k, v in profile.items() if k in shown}
        raw = {}
        for question in questionnaire.questions:
            if not question.knockout and rng.random() < 0.05:
                continue  # left unanswered
            legal = questionnaire.dimension_of[question.id].legal
            if rng.random() < (0.97 if compliant and legal else quality):
                value = question.best_answer()
            else:
                value = random_answer(question, rng)
            raw[question.id] = list(value) if isinstance(value, list | tuple) else value
        answers = normalize_all(questionnaire, raw, profile=False)
        outcomes = walk(questionnaire, profile, answers)
        answers = {
            k: v
            for k, v in answers.items()
            if outcomes[k].state in (State.ANSWERED, State.NOT_APPLICABLE)
        }
        result = score(questionnaire, profile, answers)
        sets.append(
            AnswerSet(
                profile=profile,
                answers=answers,
                overall=result.overall,
                level=result.level.id,
                items=result_rows(0, result, profile),
            )
        )
    return sets


# --- The bulk loader ---------------------------------------------------------


@dataclass
class LoadReport:
    submitted: int
    started_only: int
    named: int
    answers: int
    result_items: int
    seconds: float
    levels: dict = field(default_factory=dict)


def load_campaign(
    app,
    campaign_id: int,
    count: int = 10_000,
    distinct: int = 200,
    named_share: float = 0.1,
    started_only: int | None = None,
    with_answers: bool = True,
    batch: int = 1000,
    seed: int = 1,
) -> LoadReport:
    """Bulk-load `count` submitted assessments (and `started_only` unsubmitted ones,
    count // 10 by default) into a campaign with Core executemany inserts."""
    rng = random.Random(seed)
    started_only = count // 10 if started_only is None else started_only
    began = time.perf_counter()
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        questionnaire = app.extensions["questionnaires"].get(
            campaign.questionnaire_id, campaign.questionnaire_version
        )
        # Outside a request every SQLite transaction is BEGIN IMMEDIATE (app/database.py):
        # end the session's before the loader's connection takes the write lock.
        db.session.remove()
        sets = answer_sets(questionnaire, distinct, rng)
        now = utcnow()
        report = LoadReport(count, started_only, 0, 0, 0, 0.0)
        assessments = Assessment.__table__
        insert_assessments = sa.insert(assessments).returning(
            assessments.c.id, sort_by_parameter_order=True
        )
        with db.engine.begin() as connection:
            for first in range(0, count + started_only, batch):
                numbers = range(first, min(first + batch, count + started_only))
                rows, chosen = [], []
                for number in numbers:
                    created = now - timedelta(days=rng.uniform(1, 120))
                    submitted = number < count
                    answer_set = rng.choice(sets) if submitted else None
                    named = submitted and rng.random() < named_share
                    report.named += named
                    rows.append(
                        {
                            "token_hash": hash_token(new_token()),
                            "questionnaire_id": questionnaire.id,
                            "questionnaire_version": questionnaire.version,
                            "language": rng.choice(("es", "es", "es", "ht", "en")),
                            "created_at": created,
                            "updated_at": created + timedelta(hours=rng.uniform(0, 48)),
                            "submitted_at": (
                                created + timedelta(hours=rng.uniform(0.2, 48))
                                if submitted
                                else None
                            ),
                            "previous_id": None,
                            "overall": answer_set.overall if submitted else None,
                            "level": answer_set.level if submitted else None,
                            "campaign_id": campaign_id,
                            "member_name": f"Empresa socia {number + 1:05d}",
                            "share_named": named,
                        }
                    )
                    chosen.append(answer_set)
                ids = connection.execute(insert_assessments, rows).scalars().all()
                answer_rows, item_rows = [], []
                for assessment_id, row, answer_set in zip(ids, rows, chosen, strict=True):
                    if answer_set is None:
                        continue
                    report.levels[answer_set.level] = report.levels.get(answer_set.level, 0) + 1
                    if with_answers:
                        answer_rows += [
                            {
                                "assessment_id": assessment_id,
                                "question_id": question_id,
                                "value": _encode(value),
                                "updated_at": row["updated_at"],
                            }
                            for question_id, value in (
                                answer_set.profile | answer_set.answers
                            ).items()
                        ]
                    item_rows += [
                        item | {"assessment_id": assessment_id} for item in answer_set.items
                    ]
                if answer_rows:
                    connection.execute(sa.insert(Answer.__table__), answer_rows)
                if item_rows:
                    connection.execute(sa.insert(ResultItem.__table__), item_rows)
                report.answers += len(answer_rows)
                report.result_items += len(item_rows)
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does within a minute of a bulk load on a real server: since
            # PostgreSQL 13 inserts trigger a vacuum too, which lets index-only scans skip
            # the table.
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    sa.text("VACUUM ANALYZE")
                )
    report.seconds = time.perf_counter() - began
    return report


# --- Measuring ---------------------------------------------------------------


class QueryCounter:
    """Counts SQL statements (and the time spent in them) on an engine."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0
        self.seconds = 0.0
        self._started = []

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)

    def reset(self):
        self.count, self.seconds = 0, 0.0

    def _before(self, *args):
        self.count += 1
        self._started.append(time.perf_counter())

    def _after(self, *args):
        if self._started:
            self.seconds += time.perf_counter() - self._started.pop()


def percentile(values, fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Timing:
    name: str
    ms: list
    cpu_ms: list
    queries: list
    sql_ms: list
    size: int
    status: int
    lines: int

    @property
    def p50(self):
        return statistics.median(self.ms)

    @property
    def p99(self):
        return percentile(self.ms, 0.99)


def login(client, email: str = EMAIL, password: str = PASSWORD) -> None:
    from tests.support.pages import csrf_token_of

    token = csrf_token_of(client, "/es/associations/login")
    response = client.post(
        "/es/associations/login",
        data={"csrf_token": token, "email": email, "password": password},
    )
    if response.status_code != 302:
        raise SystemExit(f"login failed: HTTP {response.status_code}")


def fetch_body(client, url) -> tuple[int, int, int]:
    """(status, bytes, lines) of a GET, its body read chunk by chunk as a server sends
    it (a streamed body is never held whole here)."""
    response = client.get(url, buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return response.status_code, size, lines


def time_get(client, counter, name, url, repeat, warmup) -> Timing:
    ms, cpu_ms, queries, sql_ms = [], [], [], []
    size = status = lines = 0
    for number in range(warmup + repeat):
        counter.reset()
        started, started_cpu = time.perf_counter(), time.process_time()
        status, size, lines = fetch_body(client, url)
        elapsed = (time.perf_counter() - started) * 1000
        elapsed_cpu = (time.process_time() - started_cpu) * 1000
        if status != 200:
            raise SystemExit(f"{name}: HTTP {status} for {url}")
        if number >= warmup:
            ms.append(elapsed)
            cpu_ms.append(elapsed_cpu)
            queries.append(counter.count)
            sql_ms.append(counter.seconds * 1000)
    return Timing(name, ms, cpu_ms, queries, sql_ms, size, status, lines)


def _memory_kib(field_name: str) -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"{field_name}:\s+(\d+)", status).group(1))


def peak_memory(client, url) -> tuple[float, float]:
    """(MiB of resident memory the request added at its peak, MiB of the tracemalloc
    peak of another request): what one download costs the process."""
    # Give the memory freed by the loading back to the system first (glibc), so that a
    # request that needs more shows up in the RSS instead of reusing freed pages.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = _memory_kib("VmRSS")
    fetch_body(client, url)
    rss = (_memory_kib("VmHWM") - before) / 1024
    tracemalloc.start()
    try:
        fetch_body(client, url)
        traced = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return rss, traced


def selects_of(client, engine, url) -> list[tuple]:
    """(statement, parameters) of each SELECT one GET of `url` runs."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        fetch_body(client, url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    return statements


def explain_requests(client, engine, pages: dict, folder: Path) -> None:
    """Write the plan of each SELECT that one GET of each page runs (pages: name -> URL)."""
    folder.mkdir(parents=True, exist_ok=True)
    dialect = engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    for name, url in pages.items():
        statements = selects_of(client, engine, url)
        report = []
        with engine.connect() as connection:
            for number, (statement, parameters) in enumerate(statements, start=1):
                plan = connection.exec_driver_sql(prefix + statement, parameters).all()
                lines = [" | ".join(str(cell) for cell in row) for row in plan]
                report += [f"-- query {number}", statement, f"-- parameters {parameters}"]
                report += ["-- plan", *lines, ""]
        path = folder / f"explain-{dialect}-{name}.txt"
        path.write_text("\n".join(report))
        print(f"plans of {len(statements)} queries: {path}")


def make_release(app, campaign_id: int) -> float:
    """The campaign's release, made as a submission makes it; returns its seconds."""
    from app.reporting.aggregates import refresh_release

    started = time.perf_counter()
    with app.app_context():
        refresh_release(campaign_id)
        db.session.commit()
    return time.perf_counter() - started


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh temporary SQLite file")
    parser.add_argument("--count", type=int, default=10_000, help="submitted assessments")
    parser.add_argument("--repeat", type=int, default=20, help="timed dashboard requests")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--export-repeat", type=int, default=3, help="timed requests per export")
    parser.add_argument("--explain", type=Path, help="write the query plans to this folder")
    parser.add_argument(
        "--named-share",
        type=float,
        default=0.1,
        help="share of members named in the export (1: every member is a row)",
    )
    parser.add_argument(
        "--release", action="store_true", help="make the campaign's release after loading"
    )
    parser.add_argument(
        "--no-answers", action="store_true", help="skip the answers rows (faster load)"
    )
    args = parser.parse_args(argv)
    # A SIGTERM must still run the clean-up (the temporary file or schema).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with prepared_database(args.database_url) as url:
        app = create_bench_app(url)
        try:
            print(f"database: {describe(url)}")
            campaign_id = seed_association(app)
            report = load_campaign(
                app,
                campaign_id,
                count=args.count,
                named_share=args.named_share,
                with_answers=not args.no_answers,
            )
            print(
                f"loaded {report.submitted:,} submitted + {report.started_only:,} started "
                f"assessments ({report.named:,} named), {report.answers:,} answers, "
                f"{report.result_items:,} result items in {report.seconds:.1f} s"
            )
            print("levels: " + ", ".join(f"{k} {v}" for k, v in sorted(report.levels.items())))
            if args.release:
                print(f"release made in {make_release(app, campaign_id):.1f} s")
            client = app.test_client()
            login(client)
            base = f"/es/associations/campaigns/{campaign_id}"
            with app.app_context():
                engine = db.engine
            exports = [f"{base}/export.csv", f"{base}/export.xlsx"]
            with QueryCounter(engine) as counter:
                dashboard = time_get(client, counter, "dashboard", base, args.repeat, args.warmup)
                timings = [dashboard] + [
                    time_get(client, counter, url.rsplit("/", 1)[1], url, args.export_repeat, 1)
                    for url in exports
                ]
            memory = {url.rsplit("/", 1)[1]: peak_memory(client, url) for url in exports}
            if args.explain:
                pages = {"dashboard": base, "export-csv": exports[0], "export-xlsx": exports[1]}
                explain_requests(client, engine, pages, args.explain)
            export = timings[1]
            print()
            print(
                f"dashboard: {args.repeat} timed requests after {args.warmup} warm-ups; "
                f"exports: {args.export_repeat} after 1 (Flask test client, in process)"
            )
            header = (
                f"{'endpoint':<11} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'CPU p50':>8} "
                f"{'SQL ms p50':>10} {'queries':>7} {'bytes':>11}"
            )
            print("(SQL ms: time in cursor.execute, streamed fetches not included)")
            print(header)
            print("-" * len(header))
            for timing in timings:
                print(
                    f"{timing.name:<11} {timing.p50:8.1f} {timing.p99:8.1f} {max(timing.ms):8.1f} "
                    f"{statistics.median(timing.cpu_ms):8.1f} "
                    f"{statistics.median(timing.sql_ms):10.1f} "
                    f"{statistics.median(timing.queries):7.0f} {timing.size:11,}"
                )
            print()
            print("memory of one export request (MiB): peak RSS added, tracemalloc peak")
            for name, (rss, traced) in memory.items():
                print(f"  {name:<11} {rss:8.1f} {traced:8.1f}")
            print()
            print(
                f"dashboard: {statistics.median(dashboard.queries):.0f} SQL queries per request "
                f"(min {min(dashboard.queries)}, max {max(dashboard.queries)})"
            )
            print(
                f"export: {export.size:,} bytes ({export.size / 1024:.0f} KiB), "
                f"{export.lines - 1:,} member rows"
            )
            print()
            print("targets")
            print(
                f"  dashboard p50 <= {DASHBOARD_TARGET_MS} ms over {args.count:,} assessments: "
                f"{dashboard.p50:.1f} ms  {verdict(dashboard.p50 <= DASHBOARD_TARGET_MS)}"
            )
            print(f"  dashboard p99: {dashboard.p99:.1f} ms")
            for timing in timings[1:]:
                print(
                    f"  {timing.name} < {EXPORT_TARGET_MS / 1000:.0f} s "
                    f"(max of {args.export_repeat}): {max(timing.ms):.0f} ms  "
                    f"{verdict(max(timing.ms) < EXPORT_TARGET_MS)}"
                )
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
