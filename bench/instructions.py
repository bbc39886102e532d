"""Instructions per request of the real app under gunicorn, counted by valgrind's callgrind.

Run by hand, from the project root:

    .venv/bin/python bench/instructions.py              # a fresh temporary SQLite file
    .venv/bin/python bench/instructions.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/instructions.py --requests 200   # counted requests per row (default)
    .venv/bin/python bench/instructions.py --only save --only results  # some rows (and hello)

Needs valgrind (`valgrind` and `callgrind_control`, not Python packages). On Debian/Ubuntu:

    apt-get update && apt-get install -y valgrind

Without them the script stops at once with a message saying so (exit status 2).

Why: CPU time on a shared machine varies by +-30 % between runs of bench/http.py, so
its CPU ratios cannot show a 5-10 % change. The instructions a worker executes per
request do not depend on the machine's load: on SQLite, repeat runs of the same code
agree within about 0.2 % (section GET: 4.109 and 4.114 M; hello: 1.296 to 1.298 M over
four runs). On PostgreSQL less so: the same landing page (which reads no database)
counted 2.33 M in one run and 2.58 M in another, so work outside the requests (the
database watchdog's thread is the likely one; not established) adds up to ~0.3 M
per request: compare PostgreSQL rows over several runs.

What one run does (at 200 requests per row: about 1 3/4 minutes for hello and two rows,
2 1/2 for all six, on SQLite or PostgreSQL; valgrind slows the workers many times over):
1. Seeds a database like bench/http.py (its seed() is imported): a fresh SQLite
   file or a fresh PostgreSQL schema dropped at the end; an assessment that has
   answered every step, a submitted one, a submitted campaign member, and a
   campaign of --count assessments (200 by default: the campaign member's results
   page shows the campaign's medians, so its count depends on it).
2. Starts gunicorn (1 sync worker, --timeout 900) under `valgrind --tool=callgrind
   --instr-atstart=no --trace-children=yes` on `wsgi:app`, and the same on the bare
   Flask app of bench/hello.py (the ceiling), with the environment bench/http.py
   gives them (DATABASE_URL, SECRET_KEY, BASE_URL).
3. For each row: hello (always, first), the landing page, a section page (GET, with
   the visitor's session cookie), saving that section (POST with the session cookie
   and CSRF token; two answer sets in turns, so every save writes), the results page
   (a lone assessment, and a campaign member, with the visitor's cookie): 20 warm-up
   requests, then `callgrind_control -z` (zero the counters) and `-i on`, --requests
   requests one after the other, each on a fresh connection, `-i off` and `-d`
   (dump), and reads the `totals:` line of the new dump. Every response's status is
   checked (302 for a save, else 200): any other stops the run with an error.
4. Prints, per row, millions of instructions per request and the ratio hello / row
   (1.0 would be as cheap as the bare Flask hello).
Every process it started is stopped and every temporary file and schema removed,
also on error, Ctrl-C or SIGTERM.

What the numbers mean: the instructions the worker process executes in user space
(Python, the app, the database driver, SQLite itself) while it reads, handles and
answers the requests. Time in the kernel (socket and file system calls) and time
waiting on the database server are NOT counted: on PostgreSQL a roundtrip costs the
worker little here, so the figures undercount what each query costs. It complements
bench/http.py (throughput, latency, CPU time), it does not replace it.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py is named like the standard library's `http` package: with bench/ on
# sys.path (as it is for `python bench/instructions.py`), `import http.client` would
# load it instead. Take bench/ off the path first (as bench/http.py does).
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from dataclasses import field  # noqa: E402

from bench.dashboard import describe  # noqa: E402
from bench.http import GUNICORN  # noqa: E402
from bench.http import SECTION  # noqa: E402
from bench.http import Server  # noqa: E402
from bench.http import add_row_filter  # noqa: E402
from bench.http import children  # noqa: E402
from bench.http import expect  # noqa: E402
from bench.http import fetch  # noqa: E402
from bench.http import free_port  # noqa: E402
from bench.http import measured_with_tools  # noqa: E402
from bench.http import save_bodies  # noqa: E402
from bench.http import seed  # noqa: E402
from bench.http import server_environment  # noqa: E402
from bench.http import session_cookie  # noqa: E402
from tests.support.pages import csrf_token  # noqa: E402

WARMUP = 20
REQUEST_TIMEOUT = 120  # seconds: requests are many times slower under valgrind
START_TIMEOUT = 600  # seconds for a worker to boot under valgrind
DUMP_TIMEOUT = 60  # seconds for callgrind to write a dump
FORM = "application/x-www-form-urlencoded"


# --- Processes under callgrind -----------------------------------------------


def launch(server: Server, folder: Path) -> None:
    """Start gunicorn (1 sync worker) on `server.target` under callgrind, not yet counting."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--trace-children=yes",
        f"--callgrind-out-file={folder}/callgrind.%p",
        str(GUNICORN),
        "--bind",
        f"127.0.0.1:{server.port}",
        "--workers",
        "1",
        "--timeout",
        "900",
        "--chdir",
        str(ROOT),
        server.target,
    ]
    server.spawn(command)


def wait_ready(server: Server, ready_path: str) -> int:
    """Wait for a 200 on `ready_path`; return the pid of the single worker."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name}: gunicorn exited\n{server.log_tail()}")
        try:
            status, _, _ = fetch(server.port, "GET", ready_path, timeout=REQUEST_TIMEOUT)
        except OSError:
            status = None
        server.workers = children(server.process.pid)
        if status == 200 and len(server.workers) == 1:
            return server.workers[0]
        time.sleep(0.5)
    raise RuntimeError(
        f"{server.name}: no 200 on {ready_path} in {START_TIMEOUT} s\n{server.log_tail()}"
    )


def callgrind_control(pid: int, *options: str) -> None:
    done = subprocess.run(  # noqa: S603 (our own command line)
        ["callgrind_control", *options, str(pid)],
        capture_output=True,
        text=True,
        timeout=DUMP_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"callgrind_control {' '.join(options)} {pid} failed:\n{done.stdout}{done.stderr}"
        )


def dump_totals(folder: Path, pid: int) -> int:
    """Dump the worker's counters and return the instructions (Ir) of the new dump."""
    before = set(folder.glob(f"callgrind.{pid}*"))
    callgrind_control(pid, "-d")
    deadline = time.monotonic() + DUMP_TIMEOUT
    while time.monotonic() < deadline:
        new = sorted(set(folder.glob(f"callgrind.{pid}*")) - before, key=os.path.getmtime)
        if new:
            totals = [
                line
                for line in new[-1].read_text(encoding="utf-8", errors="replace").splitlines()
                if line.startswith("totals:")
            ]
            if totals:  # written last: the dump is complete
                return int(totals[-1].split()[1])
        time.sleep(0.2)
    raise RuntimeError(f"callgrind wrote no complete dump for {pid} in {DUMP_TIMEOUT} s")


# --- Rows --------------------------------------------------------------------


@dataclass
class Row:
    name: str
    server: Server
    worker: int
    path: str
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    bodies: list = field(default_factory=list)  # sent in turns
    expected: int = 200
    sent: int = 0

    def send(self) -> None:
        """One request on a fresh connection; stop the run on an unexpected status."""
        body = self.bodies[self.sent % len(self.bodies)] if self.bodies else None
        headers = {"Accept-Encoding": "gzip", **self.headers}  # like a browser
        if body is not None:
            headers["Content-Type"] = FORM
        status, _, content = fetch(
            self.server.port, self.method, self.path, headers, body, timeout=REQUEST_TIMEOUT
        )
        self.sent += 1
        expect(status, self.expected, f"{self.name} (request {self.sent})", content)


def count_instructions(row: Row, requests: int, folder: Path) -> float:
    """Instructions per request of `row`'s worker over `requests` requests, after a warm-up."""
    for _ in range(WARMUP):
        row.send()
    callgrind_control(row.worker, "-z")
    callgrind_control(row.worker, "-i", "on")
    for _ in range(requests):
        row.send()
    callgrind_control(row.worker, "-i", "off")
    return dump_totals(folder, row.worker) / requests


def visitor_session(app: Server, section_path: str) -> tuple[str, str]:
    """The visitor's session cookie and its CSRF token, from its first section page."""
    status, headers, body = fetch(app.port, "GET", section_path, timeout=REQUEST_TIMEOUT)
    expect(status, 200, "section page", body)
    cookie = session_cookie(headers)
    token = csrf_token(body.decode())
    return cookie, token


def plan(app: Server, app_worker: int, hello: Server, hello_worker: int, data) -> list[Row]:
    section_path = f"/es/a/{data.answered}/s/{SECTION}"
    cookie, token = visitor_session(app, section_path)
    bodies = save_bodies(
        app.port, section_path, cookie, token, data.save_values, timeout=REQUEST_TIMEOUT
    )
    visitor = {"Cookie": cookie}
    return [
        Row("hello (ceiling)", hello, hello_worker, "/"),
        Row("landing /es/", app, app_worker, "/es/"),
        Row("section GET", app, app_worker, section_path, headers=visitor),
        Row(
            "section save POST",
            app,
            app_worker,
            section_path,
            method="POST",
            headers=visitor,
            bodies=bodies,
            expected=302,
        ),
        Row("results", app, app_worker, f"/es/a/{data.submitted}/results", headers=visitor),
        Row(
            "results (campaign member)",
            app,
            app_worker,
            f"/es/a/{data.member}/results",
            headers=visitor,
        ),
    ]


# --- Run ---------------------------------------------------------------------


def measure(args, url, secret, folder, servers) -> int:
    started = time.monotonic()
    print(f"database: {describe(url)}")
    data = seed(url, secret, args.count)
    print(data.load_line)
    env = server_environment(url, secret)
    app = Server("app", "wsgi:app", free_port(), env, folder / "app.log")
    hello = Server("hello", "bench.hello:app", free_port(), env, folder / "hello.log")
    servers += [app, hello]
    launch(app, folder)  # both boot at once: each takes tens of seconds under valgrind
    launch(hello, folder)
    app_worker = wait_ready(app, "/healthz")
    hello_worker = wait_ready(hello, "/")
    print(f"gunicorn 1 sync worker under callgrind: app worker {app_worker}, hello {hello_worker}")
    rows = plan(app, app_worker, hello, hello_worker, data)
    if args.only:  # the first row, hello, is the ceiling every ratio needs
        rows = rows[:1] + [row for row in rows[1:] if any(text in row.name for text in args.only)]
    print(f"counting {args.requests} requests per row (after {WARMUP} warm-up requests) ...")
    results = []
    for row in rows:
        results.append((row.name, count_instructions(row, args.requests, folder)))
        print(f"  {row.name}: {results[-1][1] / 1e6:.3f} M instructions/request", flush=True)
    print()
    print_table(results, args.requests, url)
    print(f"\n(run took {time.monotonic() - started:.0f} s)")
    return 0


def print_table(results, requests: int, url: str) -> None:
    print(f"results: {requests} requests per row, gunicorn 1 sync worker, {describe(url)}")
    line = f"{'row':<27} {'M instr/req':>11}  {'ratio hello/row':>15}"
    print(line)
    print("-" * len(line))
    ceiling = results[0][1]
    for name, per_request in results:
        print(f"{name:<27} {per_request / 1e6:11.3f}  {ceiling / per_request:15.3f}")
    print(
        "Instructions the gunicorn worker executes in user space per request (callgrind;\n"
        "on SQLite repeat runs agree within about 0.2 %, on PostgreSQL within ~0.3 M).\n"
        "NOT counted: time in the kernel\n"
        "(socket and file system calls) and waiting on the database server, so on PostgreSQL\n"
        "the figures undercount roundtrip costs. This complements bench/http.py (wall time,\n"
        "CPU time under load), it does not replace it."
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="instructions per request of the app's gunicorn worker, under callgrind"
    )
    parser.add_argument("--database-url", help="default: a fresh temporary SQLite file")
    parser.add_argument("--requests", type=int, default=200, help="counted requests per row")
    parser.add_argument("--count", type=int, default=200, help="campaign assessments")
    add_row_filter(parser)
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")

    tools = ["valgrind", "callgrind_control"]
    purpose = "to count instructions (callgrind)"
    return measured_with_tools(args, measure, "bench-instructions-", tools, purpose)


if __name__ == "__main__":
    sys.exit(main())
