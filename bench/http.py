"""Throughput and latency of the real app under gunicorn, measured with wrk.

Run by hand, from the project root:

    .venv/bin/python bench/http.py                      # a fresh temporary SQLite file
    .venv/bin/python bench/http.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/http.py --duration 10        # seconds per endpoint (default 10)
    .venv/bin/python bench/http.py --only save --only results   # some rows (and hello)

Needs `wrk` (HTTP load generator, not a Python package). On Debian/Ubuntu:

    apt-get update && apt-get install -y wrk

Without it the script stops at once with a message saying so.

What one run does (24 x (duration + 1) seconds of load with --paired, the default,
12 x without; the drains between runs, and the seeding: about 5 minutes on SQLite,
6 on PostgreSQL, at the default):
1. Seeds a database -- a fresh SQLite file, or a fresh PostgreSQL schema
   (`bench_<random>`, via `?options=-csearch_path%3D<schema>`) dropped at the
   end: migrations; one assessment that has answered every step (not
   submitted); one submitted assessment; one submitted member of the
   campaign; and the 10,000-assessment campaign of bench/dashboard.py (its
   loader is imported).
2. Starts gunicorn (2 sync workers, 127.0.0.1, a free port) on `wsgi:app`
   with DATABASE_URL and SECRET_KEY in the environment, and times the cold
   start (launch -> first 200 on /healthz). Starts the same gunicorn on the
   bare Flask app of bench/hello.py: the ceiling; and on bench/floor.py: the
   app sending a constant copy of the section page, without and with one token
   lookup (the floor under every assessment page).
3. Runs `wrk -t2 -c16 -d<duration>s --latency` (after a 1 s warm-up) on:
   hello, the two floor routes, the landing page, a section page (GET, with the
   visitor's session cookie as a browser sends it after its first page, and
   without, as the first page of a visit), saving that section (POST
   with the session cookie and CSRF token fetched beforehand; a Lua script
   alternates two answer sets so every save writes), the results page (a
   lone assessment, and a campaign member, whose page shows campaign
   medians; with the visitor's cookie), and the association dashboard
   (logged-in session cookie); the member's results and the dashboard also
   with a single connection (unloaded latency). Requests send `Accept-Encoding: gzip` like browsers.
   Every status code is counted: non-2xx/3xx responses (and requests that
   got no response) are reported. With --paired (the default), hello runs again
   just before each row, and the row's ratio is taken to that run: both then
   met the same load from other processes on the machine, which a ratio to one
   hello run at the start does not ensure. Between runs it waits until the backlog
   wrk left queued has drained. It also samples the workers' CPU time
   (/proc/<pid>/stat) to report CPU ms per response: on a busy machine that
   is a steadier measure than req/s.
4. Prints the table (req/s, p50, p99, ratio to the ceiling, CPU ms/request)
   against the targets, the section page's weight (HTML + linked CSS/JS,
   uncompressed), whether responses are compressed, static caching headers,
   cold start, the workers' RSS after the run, and where a worker's boot
   time goes (`python -X importtime -c "import wsgi"`).
Every process it started is stopped and every temporary file and schema
removed, also on error or Ctrl-C.

Targets, as CPU ratio to hello (hello's worker CPU ms per request / the page's,
under the same gunicorn: the primary figure, since req/s ratios are unreliable on a
shared 2-core machine, where the ceiling itself collapses under load): landing >=
0.55, section GET >= 0.33, section save >= 0.23, results >= 0.35; dashboard p50 <=
40 ms (at --count 100000); section page <= 40 KB; cold start <= 2 s; worker RSS <=
120 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `http` package: with bench/ on
# sys.path (as it is for `python bench/http.py`), `import http.client` anywhere
# (werkzeug, urllib) would load this script instead. Take bench/ off the path first.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import gzip  # noqa: E402
import http.client  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from dataclasses import field  # noqa: E402
from http.cookies import SimpleCookie  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from bench.dashboard import EMAIL  # noqa: E402
from bench.dashboard import PASSWORD  # noqa: E402
from bench.dashboard import create_bench_app  # noqa: E402
from bench.dashboard import describe  # noqa: E402
from bench.dashboard import load_campaign  # noqa: E402
from bench.dashboard import prepared_database  # noqa: E402
from bench.dashboard import seed_association  # noqa: E402
from tests.support.pages import csrf_token  # noqa: E402

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
USER_AGENT = "bench-http/1"  # the same for login and wrk: sessions are bound to it
SECTION = "gestion-1"
TARGET_RATIOS = {"landing": 0.55, "section": 0.33, "results": 0.35, "save": 0.23}
DASHBOARD_TARGET_MS = 40
WEIGHT_TARGET = 40 * 1024
COLD_START_TARGET_S = 2.0
RSS_TARGET_KB = 120 * 1024


# --- Processes ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def cpu_times(pids) -> tuple[float, float]:
    """(user, system) CPU seconds of processes, from /proc/<pid>/stat (utime, stime)."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11])
        system += int(fields[12])
    return user / ticks, system / ticks


def rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Server:
    name: str
    target: str
    port: int
    env: dict
    log_path: Path
    options: tuple = ()
    ready_path: str = "/"
    process: subprocess.Popen | None = None
    cold_start: float | None = None
    workers: list = field(default_factory=list)

    def spawn(self, command: list[str]) -> None:
        """Run `command` from the project root, its output to the log, in a process group
        of its own: stop() stops it as one."""
        log = open(self.log_path, "wb")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(  # noqa: S603 (our own command line)
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def start(self, ready_path: str, workers: int = 2, timeout: float = 60) -> None:
        self.ready_path = ready_path
        command = [
            str(GUNICORN),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--chdir",
            str(ROOT),
            *self.options,
            self.target,
        ]
        started = time.perf_counter()
        self.spawn(command)
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited\n{self.log_tail()}")
            try:
                status, _, _ = fetch(self.port, "GET", ready_path, timeout=2)
            except OSError:
                status = None
            if status == 200:
                self.cold_start = time.perf_counter() - started
                break
            time.sleep(0.01)
        else:
            raise RuntimeError(
                f"{self.name}: no 200 on {ready_path} in {timeout} s\n{self.log_tail()}"
            )
        while time.perf_counter() < deadline:  # both workers booted before measuring
            self.workers = children(self.process.pid)
            if len(self.workers) >= workers:
                return
            time.sleep(0.05)

    def wait_idle(self) -> None:
        wait_idle(self.port, self.ready_path)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM the process group we created, SIGKILL it if still there after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        group = self.process.pid  # start_new_session: the group id is the master's pid
        try:
            os.killpg(group, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass


# --- HTTP --------------------------------------------------------------------


def fetch(port, method, path, headers=None, body=None, timeout=30):
    """(status, headers as a list, body bytes) from 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def header(headers, name) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def session_cookie(headers, previous: str | None = None) -> str | None:
    for key, value in headers:
        if key.lower() == "set-cookie":
            cookie = SimpleCookie()
            cookie.load(value)
            if "session" in cookie:
                return f"session={cookie['session'].value}"
    return previous


def expect(status, wanted, what, body=b""):
    if status != wanted:
        snippet = body[:300].decode("utf-8", "replace")
        raise RuntimeError(f"{what}: HTTP {status}, expected {wanted}\n{snippet}")


def login_cookie(port) -> str:
    status, headers, body = fetch(port, "GET", "/es/associations/login")
    expect(status, 200, "login page", body)
    cookie = session_cookie(headers)
    token = csrf_token(body.decode())
    form = urlencode({"csrf_token": token, "email": EMAIL, "password": PASSWORD})
    status, headers, body = fetch(
        port, "POST", "/es/associations/login", headers={"Cookie": cookie}, body=form
    )
    expect(status, 302, "login", body)
    return session_cookie(headers, cookie)


# --- Seeding -----------------------------------------------------------------


@dataclass
class Seed:
    campaign_id: int
    code: str
    answered: str  # token: every step answered, not submitted
    submitted: str  # token: submitted, in no campaign
    member: str  # token: submitted member of the 10,000 campaign
    save_values: list  # two [(name, value)] lists for the section form, without the CSRF token
    load_seconds: float
    load_line: str


def journey_tokens(app, code):
    """Drive the journey with the test client of the test suite."""
    from tests.support.content import EMPRESA
    from tests.support.visitor import Visitor
    from tests.support.visitor import best

    answered = Visitor(app.test_client())
    answered.start()
    answered.answer_all(best)
    submitted = Visitor(app.test_client())
    submitted.start()
    submitted.answer_all(best)
    submitted.submit()
    assert submitted.url.endswith("/results"), submitted.url
    member = Visitor(app.test_client())
    member.get(f"/es/c/{code}")
    member.submit({"member_name": "Socio medido", "sharing": "named"})
    member.submit(EMPRESA)
    member.answer_all(best)
    member.submit()
    assert member.url.endswith("/results"), member.url
    return answered.token, submitted.token, member.token


def save_values(app, token, section_id):
    """Two complete posts of a section whose answers differ but show the same questions.

    Each post claims the other's answers as the values shown (`was-` fields),
    so every save really writes the page's answers (as the first save of a page does)."""
    from app.assess.forms import ORIGINAL_PREFIX
    from app.assess.forms import encode
    from app.assess.loading import load_assessment
    from app.engine.journey import Journey
    from app.engine.model import CHOICE_TYPES

    with app.test_request_context():
        loaded = load_assessment(token)
        questionnaire, journey = loaded.questionnaire, loaded.journey
        step = questionnaire.section_by_id[section_id]
        questions = journey.questions(step)
        shown = [q.id for q in questions]
        first = {q.id: journey.value(q) for q in questions}
        second = dict(first)
        for question in questions:
            if question.type not in CHOICE_TYPES:
                continue
            for option in question.options:
                if option.value == first[question.id]:
                    continue
                trial = dict(journey.answers) | second | {question.id: option.value}
                trial_journey = Journey(questionnaire, journey.profile, trial)
                if [q.id for q in trial_journey.questions(step)] == shown:
                    second[question.id] = option.value
                    break
        from app.extensions import db

        db.session.remove()

    def form(values, shown_values):
        pairs = [("action", "next")]
        for question in questions:
            value = values[question.id]
            if isinstance(value, frozenset | set | list | tuple):
                pairs += [(question.id, v) for v in sorted(value)]
            elif value is not None:
                pairs.append((question.id, str(value)))
            pairs.append((ORIGINAL_PREFIX + question.id, encode(shown_values[question.id])))
        return pairs

    changed = sum(first[q] != second[q] for q in first)
    if not changed:
        raise RuntimeError(f"no alternative answers found for {section_id}")
    return [form(second, first), form(first, second)]


def save_bodies(port, section_path, cookie, token, values, timeout=30) -> list[str]:
    """The section's posts of `values` (Seed.save_values) with the CSRF token, each sent
    once here: it must save and move on, so that every save measured writes."""
    bodies = [urlencode([("csrf_token", token), *pairs]) for pairs in values]
    for number, body in enumerate(bodies, 1):
        status, headers, content = fetch(
            port, "POST", section_path, headers={"Cookie": cookie}, body=body, timeout=timeout
        )
        expect(status, 302, f"save {number}", content)
        if (header(headers, "Location") or "").endswith(f"/s/{SECTION}"):
            raise RuntimeError(f"save {number} stayed on its page (new questions shown)")
    return bodies


def seed(url, secret, count) -> Seed:
    app = create_bench_app(url, secret)
    try:
        campaign_id = seed_association(app)
        report = load_campaign(app, campaign_id, count=count)
        from app.extensions import db
        from app.models import Campaign

        with app.app_context():
            code = db.session.get(Campaign, campaign_id).code
            db.session.remove()
        answered, submitted, member = journey_tokens(app, code)
        values = save_values(app, answered, SECTION)
        line = (
            f"seeded {report.submitted:,} submitted + {report.started_only:,} started campaign "
            f"assessments, {report.answers:,} answers, {report.result_items:,} result items "
            f"in {report.seconds:.1f} s"
        )
        return Seed(campaign_id, code, answered, submitted, member, values, report.seconds, line)
    finally:
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- wrk ---------------------------------------------------------------------

LUA = r"""
-- Generated by bench/http.py: fixed headers, optional bodies (alternated),
-- and a count of every status code, printed by done() as "BENCH ..." lines.
local method = "%(method)s"
local headers = %(headers)s
local bodies = %(bodies)s
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  prepared = {}
  if #bodies == 0 then
    prepared[1] = wrk.format(method, nil, headers, nil)
  else
    for i, body in ipairs(bodies) do
      prepared[i] = wrk.format(method, nil, headers, body)
    end
  end
  turn = 0
end

function request()
  turn = turn %% #prepared + 1
  return prepared[turn]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      totals[code] = (totals[code] or 0) + n
    end
  end
  io.write(string.format("BENCH requests %%d\n", summary.requests))
  io.write(string.format("BENCH duration_us %%d\n", summary.duration))
  io.write(string.format("BENCH p50_us %%d\n", latency:percentile(50)))
  io.write(string.format("BENCH p99_us %%d\n", latency:percentile(99)))
  local e = summary.errors
  io.write(string.format("BENCH errors %%d %%d %%d %%d %%d\n",
    e.connect, e.read, e.write, e.status, e.timeout))
  for code, n in pairs(totals) do
    io.write(string.format("BENCH status %%d %%d\n", code, n))
  end
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def lua_script(method, headers, bodies) -> str:
    header_items = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
    body_items = ", ".join(lua_string(b) for b in bodies)
    return LUA % {
        "method": method,
        "headers": "{" + header_items + "}",
        "bodies": "{" + body_items + "}",
    }


@dataclass
class Run:
    name: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict = field(default_factory=dict)
    socket_errors: dict = field(default_factory=dict)
    raw: str = ""
    cpu_seconds: float = 0.0  # the workers' user + system CPU during the run
    system_seconds: float = 0.0  # of which system (the kernel: sockets, file writes)
    wrk_cpu_seconds: float = 0.0  # wrk's own CPU during the run (it shares the machine)
    paired_hello_ms: float | None = None  # hello's CPU ms/request, measured just before

    @property
    def cpu_ms(self) -> float:
        """Worker CPU per completed request: steadier than req/s on a busy machine
        (it includes the requests still in flight when wrk stopped, at most a few)."""
        return 1000 * self.cpu_seconds / self.requests if self.requests else float("nan")

    @property
    def wrk_share(self) -> float:
        """wrk's CPU as a share of the CPU that wrk and the workers used together."""
        total = self.cpu_seconds + self.wrk_cpu_seconds
        return self.wrk_cpu_seconds / total if total else float("nan")

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def none_completed(self) -> bool:
        """wrk only counts the responses that arrive within the duration."""
        return self.requests == 0

    @property
    def bad(self) -> int:
        """Responses that are not 2xx/3xx, plus requests that got no response."""
        wrong = sum(n for code, n in self.statuses.items() if not 200 <= code < 400)
        lost = sum(self.socket_errors.get(k, 0) for k in ("connect", "read", "write", "timeout"))
        return wrong + lost


def run_wrk(
    name,
    server,
    path,
    folder,
    duration,
    threads,
    connections,
    method="GET",
    headers=None,
    bodies=(),
    warmup=1,
) -> Run:
    script = folder / (re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") + ".lua")
    # Like a browser: every request accepts gzip (the app compresses large text responses).
    sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip", **(headers or {})}
    if bodies:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    script.write_text(lua_script(method, sent, list(bodies)), encoding="utf-8")
    url = f"http://127.0.0.1:{server.port}{path}"

    def wrk(seconds, latency=True):
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
        command += ["--latency"] if latency else []
        command += ["-s", str(script), url]
        done = subprocess.run(  # noqa: S603 (our own command line)
            command, capture_output=True, text=True, timeout=seconds + 90, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed for {name}: {done.stderr.strip()}")
        return done.stdout

    if warmup:
        wrk(warmup, latency=False)
        server.wait_idle()
    workers = children(server.process.pid)
    user_before, system_before = cpu_times(workers)
    wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = wrk(duration)
    user, system = cpu_times(workers)
    user, system = user - user_before, system - system_before
    wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (wrk_after.ru_utime - wrk_before.ru_utime) + (
        wrk_after.ru_stime - wrk_before.ru_stime
    )
    # wrk stops sending, but requests it queued are still being served: wait for the
    # backlog to drain so that the next endpoint is measured on idle workers.
    server.wait_idle()
    run = Run(
        name,
        raw=output,
        cpu_seconds=user + system,
        system_seconds=system,
        wrk_cpu_seconds=wrk_cpu,
    )
    for line in output.splitlines():
        if not line.startswith("BENCH "):
            continue
        parts = line.split()
        if parts[1] == "requests":
            run.requests = int(parts[2])
        elif parts[1] == "duration_us":
            run.seconds = int(parts[2]) / 1e6
        elif parts[1] == "p50_us":
            run.p50_ms = int(parts[2]) / 1000
        elif parts[1] == "p99_us":
            run.p99_ms = int(parts[2]) / 1000
        elif parts[1] == "errors":
            keys = ("connect", "read", "write", "status", "timeout")
            run.socket_errors = dict(zip(keys, map(int, parts[2:7]), strict=True))
        elif parts[1] == "status":
            run.statuses[int(parts[2])] = int(parts[3])
    if "BENCH duration_us" not in output:
        raise RuntimeError(f"wrk printed no result for {name}:\n{output}")
    return run


def import_profile(env, top=6):
    """(seconds, [(module, self ms)]) for `import wsgi` under `python -X importtime`."""
    code = "import time; t = time.perf_counter(); import wsgi; print(time.perf_counter() - t)"
    done = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    modules = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s+)(\S+)", line)
        if match:
            modules.append((match.group(4), int(match.group(1)) / 1000))
    modules.sort(key=lambda item: -item[1])
    try:
        seconds = float(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        seconds = float("nan")
    return seconds, modules[:top]


def loadavg() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "unknown"


def wait_idle(port, path, timeout=180.0):
    """Return once two requests in a row are answered quickly (the backlog is gone)."""
    deadline = time.perf_counter() + timeout
    quick = 0
    while time.perf_counter() < deadline and quick < 2:
        started = time.perf_counter()
        fetch(port, "GET", path, timeout=timeout)
        quick = quick + 1 if time.perf_counter() - started < 0.05 else 0
    time.sleep(0.2)


# --- Page facts --------------------------------------------------------------


def page_weight(port, path):
    """(html bytes, [(asset path, bytes)]) for a page and the CSS/JS files it links."""
    status, _, body = fetch(port, "GET", path)
    expect(status, 200, path, body)
    html = body.decode("utf-8")
    assets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    assets += re.findall(r'<script[^>]+src="([^"]+)"', html)
    sizes = []
    for asset in assets:
        status, _, content = fetch(port, "GET", asset)
        expect(status, 200, asset, content)
        sizes.append((asset, len(content)))
    return len(body), sizes


def compression(port, path):
    """(Content-Encoding sent for Accept-Encoding: gzip, raw size, size gzip would give)."""
    status, headers, body = fetch(port, "GET", path, headers={"Accept-Encoding": "gzip"})
    expect(status, 200, path, body)
    encoding = header(headers, "Content-Encoding")
    raw = gzip.decompress(body) if encoding == "gzip" else body
    return encoding, len(raw), len(gzip.compress(raw, 6))


# --- Report ------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_table(runs, ceiling: Run):
    header_line = (
        f"{'endpoint':<27} {'CPU ms/req':>10} {'sys':>4} {'hello ms':>8} {'CPU ratio':>9} "
        f"{'target':>8} {'req/s':>7} "
        f"{'ratio':>5} {'p50 ms':>7} {'p99 ms':>7} {'wrk CPU':>7} {'bad':>4}  verdict"
    )
    print(header_line)
    print("-" * len(header_line))
    for run, kind in runs:
        ratio = run.rate / ceiling.rate if ceiling.rate else 0.0
        hello_ms = run.paired_hello_ms or ceiling.cpu_ms
        cpu_ratio = hello_ms / run.cpu_ms if run.cpu_ms else 0.0
        if kind in TARGET_RATIOS:
            target = f">= {TARGET_RATIOS[kind]:.2f}"
            ok = cpu_ratio >= TARGET_RATIOS[kind]
        elif kind == "dashboard-latency":
            target = f"p50<={DASHBOARD_TARGET_MS}"
            ok = run.p50_ms <= DASHBOARD_TARGET_MS
        else:
            target, ok = "", None
        result = "" if ok is None else verdict(ok and not run.bad and not run.none_completed)
        if run.bad:
            result += " (errors)"
        if run.none_completed:
            result += " (no response within the run)"
            rate = p50 = p99 = cpu = system = "-"
        else:
            rate, p50, p99 = f"{run.rate:.1f}", f"{run.p50_ms:.1f}", f"{run.p99_ms:.1f}"
            cpu = f"{run.cpu_ms:.3f}"
            system = f"{run.system_seconds / run.cpu_seconds:.0%}" if run.cpu_seconds else "-"
        print(
            f"{run.name:<27} {cpu:>10} {system:>4} {hello_ms:8.3f} {cpu_ratio:9.2f} {target:>8} "
            f"{rate:>7} {ratio:5.2f} "
            f"{p50:>7} {p99:>7} {run.wrk_share:7.0%} {run.bad:4d}  {result}"
        )
    print(
        "CPU ms/req: the gunicorn workers' user+system CPU per response (database server "
        "not included); sys: the part spent in the kernel.\nhello ms: hello's CPU ms/req "
        "measured just before this row (--paired), else the ceiling row's.\n"
        "CPU ratio = hello ms / CPU ms/req: the figure the targets use, steady when other\n"
        "processes compete for the 2 CPUs. ratio: req/s / hello's "
        "req/s, shown for reference only.\nwrk CPU: wrk's share of the CPU that wrk and the "
        "workers used (the load generator's cost)."
    )
    print()
    print("status codes per endpoint (bad = not 2xx/3xx, or no response):")
    for run, _ in runs:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(run.statuses.items()))
        errors = ", ".join(f"{k} {v}" for k, v in run.socket_errors.items() if v)
        print(f"  {run.name:<28} {codes}{'; socket errors: ' + errors if errors else ''}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="HTTP benchmark of the app under gunicorn + wrk")
    parser.add_argument("--database-url", help="default: a fresh temporary SQLite file")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--count", type=int, default=10_000, help="campaign assessments")
    parser.add_argument(
        "--paired",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run hello again just before each row and take the ratio to that run (default)",
    )
    add_row_filter(parser)
    args = parser.parse_args(argv)
    if args.duration < 1 or args.duration > 600:
        parser.error("--duration must be 1 to 600 seconds")

    return measured_with_tools(args, measure, "bench-http-", ["wrk"], "to generate the load")


def add_row_filter(parser) -> None:
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="measure only the rows whose name contains TEXT (repeatable; hello always runs)",
    )


def measured_with_tools(args, measure, prefix: str, tools: list[str], purpose: str) -> int:
    """`measure(args, url, secret, folder, servers)` under with_servers, once the outside
    programs (Debian packages named like them) and gunicorn are there; else 2."""
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        print(
            f"{' and '.join(missing)} not found: this benchmark needs it {purpose}.\n"
            f"Install it with: apt-get update && apt-get install -y {tools[0]}",
            file=sys.stderr,
        )
        return 2
    if not GUNICORN.exists():
        print(f"gunicorn not found at {GUNICORN}: run `make install` first", file=sys.stderr)
        return 2

    secret = secrets.token_hex(32)
    return with_servers(
        args.database_url,
        prefix,
        lambda url, folder, servers: measure(args, url, secret, folder, servers),
    )


def with_servers(database_url, prefix: str, work) -> int:
    """`work(url, folder, servers)` on a prepared database (bench/dashboard.py) and a
    temporary folder: every server it appended to `servers` is stopped and the folder
    removed afterwards, also on error, Ctrl-C or SIGTERM (e.g. from a timeout)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    servers: list[Server] = []
    try:
        with prepared_database(database_url) as url:
            try:
                return work(url, folder, servers)
            finally:  # before the database goes: a PostgreSQL schema is dropped with it
                for server in servers:
                    server.stop()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def server_environment(url: str, secret: str) -> dict:
    """The environment of the servers measured: this one's database and secret key."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "DATABASE_URL", "SECRET_KEY", "SQLALCHEMY"))
    }
    env.update(DATABASE_URL=url, SECRET_KEY=secret, PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("BASE_URL", "http://127.0.0.1")  # a server database needs it
    return env


def measure(args, url, secret, folder, servers) -> int:
    print(f"database: {describe(url)}")
    data = seed(url, secret, args.count)
    print(data.load_line)

    env = server_environment(url, secret)
    app = Server("app", "wsgi:app", free_port(), env, folder / "app.log")
    servers.append(app)
    app.start("/healthz")
    hello = Server("hello", "bench.hello:app", free_port(), env, folder / "hello.log")
    servers.append(hello)
    hello.start("/")
    print(
        f"gunicorn 2 workers: app on :{app.port} (workers {app.workers}), "
        f"hello on :{hello.port} (workers {hello.workers})"
    )

    # Sessions: one anonymous (CSRF token for the section form), one logged in.
    section_path = f"/es/a/{data.answered}/s/{SECTION}"
    status, headers, body = fetch(app.port, "GET", section_path)
    expect(status, 200, "section page", body)
    visitor_cookie = session_cookie(headers)
    token = csrf_token(body.decode())
    floor_page = folder / "floor-page.html"
    floor_page.write_bytes(body)
    floor = Server(
        "floor",
        "bench.floor:app",
        free_port(),
        env | {"BENCH_FLOOR_PAGE": str(floor_page)},
        folder / "floor.log",
    )
    servers.append(floor)
    floor.start("/es/bench-floor/")
    bodies = save_bodies(app.port, section_path, visitor_cookie, token, data.save_values)
    association_cookie = login_cookie(app.port)
    dashboard_path = f"/es/associations/campaigns/{data.campaign_id}"
    checks = {
        "/es/": None,
        f"/es/a/{data.submitted}/results": None,
        f"/es/a/{data.member}/results": None,
        dashboard_path: association_cookie,
    }
    for path, cookie in checks.items():
        status, _, body = fetch(app.port, "GET", path, headers={"Cookie": cookie} if cookie else {})
        expect(status, 200, path, body)

    wrk = {
        "folder": folder,
        "duration": args.duration,
        "threads": args.threads,
        "connections": args.connections,
    }
    load = f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
    print(f"measuring with {load} (after 1 s warm-up each) ...")
    load_before = loadavg()
    single = wrk | {"threads": 1, "connections": 1}
    member_results = f"/es/a/{data.member}/results"
    visitor = {"headers": {"Cookie": visitor_cookie}}
    cookie = {"Cookie": association_cookie}
    size = f"{args.count // 1000}k"
    plan = [  # (name, kind for the targets, server, path, options)
        ("hello (ceiling)", "ceiling", hello, "/", wrk),
        ("hello + headers + session", "", hello, "/headers", wrk),
        ("floor: app, constant page", "", floor, "/es/bench-floor/", wrk),
        ("floor: + token lookup", "", floor, f"/es/bench-floor/{data.answered}", wrk),
        ("landing /es/", "landing", app, "/es/", wrk),
        # A visitor's pages send the session cookie its first page set (holding the CSRF
        # token); the first page of a visit, without one, makes a new session.
        ("section GET", "section", app, section_path, wrk | visitor),
        ("section GET, new visit", "", app, section_path, wrk),
        (
            "section save POST",
            "save",
            app,
            section_path,
            wrk | visitor | {"method": "POST", "bodies": bodies},
        ),
        ("results", "results", app, f"/es/a/{data.submitted}/results", wrk | visitor),
        ("results (campaign member)", "results", app, member_results, wrk | visitor),
        ("results (member, 1 conn)", "", app, member_results, single | visitor),
        (f"dashboard {size}", "", app, dashboard_path, wrk | {"headers": cookie}),
        (
            f"dashboard {size} (1 conn)",
            "dashboard-latency",
            app,
            dashboard_path,
            single | {"headers": cookie},
        ),
    ]
    if args.only:  # the first row, hello, is the ceiling every ratio needs
        plan = plan[:1] + [row for row in plan[1:] if any(text in row[0] for text in args.only)]
    runs = []
    for name, kind, server, path, options in plan:
        paired_hello_ms = None
        if args.paired and server is not hello:  # under the same load as the row
            paired_hello_ms = run_wrk(f"hello before {name}", hello, "/", **wrk).cpu_ms
        run = run_wrk(name, server, path, **options)
        run.paired_hello_ms = paired_hello_ms
        runs.append((run, kind))
    ceiling = runs[0][0]

    # Facts measured after the load, on the same servers.
    workers_rss = {pid: rss_kb(pid) for pid in children(app.process.pid)}
    hello_rss = {pid: rss_kb(pid) for pid in children(hello.process.pid)}
    html_bytes, assets = page_weight(app.port, section_path)
    encodings = {
        "landing /es/": compression(app.port, "/es/"),
        "section page": compression(app.port, section_path),
    }
    if assets:
        encodings[assets[0][0]] = compression(app.port, assets[0][0])
    status, static_headers, _ = fetch(app.port, "GET", assets[0][0]) if assets else (0, [], b"")

    print()
    print(f"results: {load}, gunicorn 2 sync workers, {describe(url)}")
    print(
        f"(wrk shares the {os.cpu_count()} CPUs with the servers; load average before the "
        f"runs {load_before}, after {loadavg()}: other processes skew the numbers)"
    )
    print_table(runs, ceiling)
    print(
        "hello + headers + session: hello sending the app's security headers and a fresh "
        "signed session cookie,\nthe true cap of any page of the app. "
        "floor rows (bench/floor.py): the app with all its hooks sending a constant copy of "
        "the section page\n(gzipped like the real one), then the same after one token lookup: "
        "no assessment page can be faster."
    )

    print()
    total = html_bytes + sum(size for _, size in assets)
    print(f"section page weight (uncompressed): {total:,} bytes = {total / 1024:.1f} KB")
    print(f"  HTML {section_path.replace(data.answered, '<token>')}: {html_bytes:,} bytes")
    for asset, size in assets:
        print(f"  {asset}: {size:,} bytes")
    print(f"  target <= 40 KB: {verdict(total <= WEIGHT_TARGET)}")
    print()
    print("compression (request with Accept-Encoding: gzip):")
    for name, (encoding, raw, packed) in encodings.items():
        print(
            f"  {name}: Content-Encoding {encoding or 'none'}; {raw:,} bytes "
            f"(gzip -6 would send {packed:,})"
        )
    if assets:
        print(
            f"static caching ({assets[0][0]}): Cache-Control "
            f"{header(static_headers, 'Cache-Control') or 'none'}, ETag "
            f"{'yes' if header(static_headers, 'ETag') else 'no'}, Last-Modified "
            f"{'yes' if header(static_headers, 'Last-Modified') else 'no'}"
        )
    print()
    print(
        f"cold start (launch -> first 200 on /healthz): {app.cold_start:.2f} s  "
        f"target <= {COLD_START_TARGET_S:.0f} s: {verdict(app.cold_start <= COLD_START_TARGET_S)}"
        f"  (hello: {hello.cold_start:.2f} s)"
    )
    largest = max((kb for kb in workers_rss.values() if kb), default=0)
    listing = ", ".join(f"{pid}: {kb / 1024:.1f} MB" for pid, kb in workers_rss.items() if kb)
    hello_listing = ", ".join(f"{kb / 1024:.1f} MB" for kb in hello_rss.values() if kb)
    print(
        f"worker RSS after the run: {listing}  target <= 120 MB: "
        f"{verdict(0 < largest <= RSS_TARGET_KB)}  (hello workers: {hello_listing})"
    )
    master_rss = rss_kb(app.process.pid)
    if master_rss:
        print(f"  (app master: {master_rss / 1024:.1f} MB)")

    # Where a worker's boot time goes: the app's imports and create_app(), in a fresh interpreter.
    seconds, heaviest = import_profile(env)
    print(f"import wsgi (imports + create_app) in a fresh interpreter: {seconds:.2f} s; slowest:")
    for name, self_ms in heaviest:
        print(f"  {self_ms:7.0f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
