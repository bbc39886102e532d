"""CPU time of the results PDF: the first request for a submitted assessment, then the next.

Run by hand, from the project root:

    .venv/bin/python bench/pdf.py
    .venv/bin/python bench/pdf.py --database-url postgresql://postgres@127.0.0.1:5432/test

What it does: create_app() on a fresh database (as bench/dashboard.py does), submit
one assessment of the shipped questionnaire with the test suite's Visitor, then GET
/<lang>/a/<token>/results.pdf with the Flask test client, --repeat times per language,
timing each call with time.process_time() (CPU of this process, where WeasyPrint
runs) and time.perf_counter() (wall clock). The first request of each language
renders the PDF; the following ones are served from the RESULT_PDFS cache
(app/cache.py), so they should cost a few milliseconds. The PDF limit per address
is lifted for the run (PDF_LIMIT_PER_ADDRESS).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As in bench/dashboard.py: keep bench/ off sys.path (bench/http.py shadows `http`).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dashboard import BENCH_SECRET  # noqa: E402
from bench.dashboard import describe  # noqa: E402
from bench.dashboard import prepared_database  # noqa: E402


def submitted_token(app) -> str:
    from tests.support.visitor import Visitor
    from tests.support.visitor import best

    visitor = Visitor(app.test_client())
    visitor.start()
    visitor.answer_all(best)
    visitor.submit()
    assert visitor.url.endswith("/results"), visitor.url
    return visitor.token


def timed_get(client, path) -> tuple[float, float, int]:
    cpu, wall = time.process_time(), time.perf_counter()
    response = client.get(path)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert response.status_code == 200, (path, response.status_code)
    assert response.data.startswith(b"%PDF"), path
    return cpu, wall, len(response.data)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=5, help="requests per language")
    parser.add_argument("--languages", default="es,ht", help="comma-separated")
    args = parser.parse_args(argv)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.WARNING)

    from flask_migrate import upgrade

    from app import create_app

    with prepared_database(args.database_url) as url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "BASE_URL": "http://127.0.0.1",  # a server database needs it
                "SECRET_KEY": BENCH_SECRET,
                "TESTING": True,
                "PDF_LIMIT_PER_ADDRESS": "10000 per minute",
            }
        )
        with app.app_context():
            upgrade()
        token = submitted_token(app)
        client = app.test_client()
        print(f"results PDF on {describe(url)}, {args.repeat} requests per language")
        print(f"{'language':<9}{'request':>8}{'CPU ms':>10}{'wall ms':>10}{'bytes':>10}")
        for lang in args.languages.split(","):
            runs = [timed_get(client, f"/{lang}/a/{token}/results.pdf") for _ in range(args.repeat)]
            for number, (cpu, wall, size) in enumerate(runs, 1):
                print(f"{lang:<9}{number:>8}{cpu * 1000:>10.1f}{wall * 1000:>10.1f}{size:>10}")
            later = [cpu for cpu, _, _ in runs[1:]]
            if later:
                print(
                    f"{lang}: first {runs[0][0] * 1000:.0f} ms CPU, "
                    f"then median {statistics.median(later) * 1000:.1f} ms CPU"
                )
        from app.extensions import db

        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
