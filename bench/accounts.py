"""Time registration and password-reset requests for a known and an unknown e-mail address.

Run by hand, from the project root:

    .venv/bin/python bench/accounts.py
    .venv/bin/python bench/accounts.py --repeat 50 --smtp-delay 1
    .venv/bin/python bench/accounts.py --database-url postgresql://postgres@127.0.0.1:5432/test

What it does:
1. create_app() on a fresh database (as bench/dashboard.py: a temporary SQLite file, or
   a PostgreSQL schema of its own, dropped at the end), with SMTP_HOST set and
   `smtplib.SMTP` replaced by a fake server that takes --smtp-delay seconds (0.5) to
   accept each message;
2. create one approved association (the known address) with the CLI;
3. POST the registration form and the reset form --repeat times (30) each for the known
   address and for an unknown one, interleaved (known, unknown, known, ...) so that a
   change in the machine's load hits both alike; each request comes from its own client
   address, so the 5-an-hour limits never answer 429; each timed request includes the
   GET that fetches its CSRF token;
4. print the median and the 90th percentile of each, the relative difference of the
   medians, and how many e-mails the fake server had received when the last request
   returned (after the run it waits until the queue is empty and counts again).

The claim (docs/SECURITY.md T9): the medians for known and unknown addresses differ by
well under 30 %, and no request waits for the SMTP server. The test suite checks the
same structurally (tests/security/test_accounts_hardening.py).
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py is named like the standard library's `http`: keep bench/ off sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dashboard import BENCH_SECRET  # noqa: E402
from bench.dashboard import describe  # noqa: E402
from bench.dashboard import prepared_database  # noqa: E402
from tests.support.content import MINI  # noqa: E402
from tests.support.content import translations_directory  # noqa: E402
from tests.support.pages import csrf_token_of  # noqa: E402

KNOWN = "conocida@gremio.example"
PASSWORD = "correct horse battery staple"  # noqa: S105 (a throw-away bench account)
LIMIT = 0.30  # the medians may differ by less than this


class SlowSMTP:
    """Accepts every message after `delay` seconds; counts them."""

    delay = 0.5
    sent = 0

    def __init__(self, host, port=0, timeout=None):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        time.sleep(SlowSMTP.delay)
        SlowSMTP.sent += 1


def create_bench_app(url: str):
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "BASE_URL": "http://127.0.0.1",  # a server database needs it
            "SECRET_KEY": BENCH_SECRET,
            "TESTING": True,
            "TRANSLATIONS_DIR": translations_directory(),
            "SMTP_HOST": "smtp.bench.example",
            **MINI,
        }
    )
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(
        args=["associations", "create", "--name", "Conocida", "--email", KNOWN]
        + ["--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    return app


_clients = iter(range(1, 10_000_000))


def post(client, kind: str, email: str) -> float:
    """One timed request: the form's GET (its CSRF token) and the POST."""
    n = next(_clients)
    address = {"REMOTE_ADDR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
    path = "/es/associations/register" if kind == "register" else "/es/associations/reset"
    started = time.perf_counter()
    data = {"csrf_token": csrf_token_of(client, path), "email": email}
    if kind == "register":
        data |= {"name": "Gremio de prueba", "password": PASSWORD, "confirm": PASSWORD}
    response = client.post(path, data=data, environ_base=address)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (kind, response.status_code)
    return elapsed


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=30, help="requests per kind and address")
    parser.add_argument("--smtp-delay", type=float, default=0.5, help="seconds per message")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    smtplib.SMTP = SlowSMTP  # the app's sender thread looks it up at each message
    SlowSMTP.delay = args.smtp_delay
    ok = True
    with prepared_database(args.database_url) as url:
        app = create_bench_app(url)
        client = app.test_client()
        post(client, "register", "warm-up@gremio.example")  # first request: imports, caches
        print(f"{describe(url)}; fake SMTP server: {args.smtp_delay:.2f} s a message")
        print(f"{'request':10} {'address':8} {'median':>9} {'p90':>9}")
        for kind in ("register", "reset"):
            times = {"known": [], "unknown": []}
            for n in range(args.repeat):
                times["known"].append(post(client, kind, KNOWN))
                times["unknown"].append(post(client, kind, f"{kind}{n}@nueva.example"))
            for who, values in times.items():
                median, p90 = statistics.median(values) * 1000, percentile(values, 0.9) * 1000
                print(f"{kind:10} {who:8} {median:7.1f}ms {p90:7.1f}ms")
            known, unknown = (statistics.median(times[w]) for w in ("known", "unknown"))
            difference = abs(known - unknown) / max(known, unknown)
            ok &= difference < LIMIT
            print(f"{kind:10} medians differ by {difference:.1%} (limit {LIMIT:.0%})")
        queued = SlowSMTP.sent
        SlowSMTP.delay = 0
        if "outbox" in app.extensions:  # absent before e-mail left the request
            app.extensions["outbox"].wait_idle(timeout=60)
        print(
            f"e-mails received by the SMTP server when the last request returned: {queued}; "
            f"after the queue emptied: {SlowSMTP.sent}"
        )
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    print("OK" if ok else "FAIL: the medians differ too much")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
