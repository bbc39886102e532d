"""Time `flask assessments import` of 5,000 offline submissions into a campaign.

Run by hand, from the project root:

    .venv/bin/python bench/import.py
    .venv/bin/python bench/import.py --database-url postgresql://postgres@127.0.0.1:5432/test

The database is prepared as bench/dashboard.py prepares it (a temporary SQLite file,
or a PostgreSQL schema of its own dropped at the end). What it does:
1. export the default questionnaire as an XLSForm (`questionnaire xlsform`) and read it
   back as KoboToolbox does;
2. draw --count valid submissions (the demo's answer generator, seeded; those that break
   a cross-field check are drawn again) and write them as a KoboToolbox CSV export
   (`;`, XML names with group prefixes, one 1/0 column per option of a `multiple`);
3. time the import command into a campaign (outside any with --no-campaign), writing
   the CSV of links: every submission read, validated by the web's step validation,
   scored, stored, the campaign's and the national releases renewed;
4. time the same file again (every submission already imported: nothing added).

Target: 5,000 submissions in under a minute, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app.demo import MEMBERS  # noqa: E402
from app.demo import member_values  # noqa: E402
from app.engine.checks import failed_checks  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Assessment  # noqa: E402
from app.models import Campaign  # noqa: E402
from bench.dashboard import create_bench_app  # noqa: E402
from bench.dashboard import describe  # noqa: E402
from bench.dashboard import prepared_database  # noqa: E402
from bench.dashboard import seed_association  # noqa: E402
from tests.support.odk import Filled  # noqa: E402
from tests.support.odk import XLSForm  # noqa: E402
from tests.support.odk import cells  # noqa: E402
from tests.support.odk import csv_export  # noqa: E402

TARGET_SECONDS = 60


def submissions(questionnaire, count: int, rng) -> list[Filled]:
    found = []
    while len(found) < count:
        member = MEMBERS[len(found) % len(MEMBERS)]
        profile, answers = member_values(questionnaire, member, rng)
        if failed_checks(questionnaire, profile | answers):
            continue
        name = f"{member.name} {len(found) + 1}"
        found.append(Filled(str(uuid.UUID(int=rng.getrandbits(128))), profile, answers, name))
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument(
        "--no-campaign",
        action="store_true",
        help="import outside any campaign (only the national release is renewed)",
    )
    args = parser.parse_args(argv)
    rng = random.Random(2026)  # noqa: S311 (reproducible data, not a secret)
    with prepared_database(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
        app = create_bench_app(url)
        campaign_id = seed_association(app)
        runner = app.test_cli_runner()
        with app.app_context():
            questionnaire = app.extensions["questionnaires"].get(app.config["QUESTIONNAIRE"])
            code = db.session.get(Campaign, campaign_id).code
        workbook = Path(folder) / "form.xlsx"
        result = runner.invoke(
            args=["questionnaire", "xlsform", questionnaire.id, "-o", str(workbook)]
        )
        assert result.exit_code == 0, result.output
        form = XLSForm(workbook.read_bytes())
        started = time.perf_counter()
        filled = submissions(questionnaire, args.count, rng)
        export = Path(folder) / "kobo.csv"
        export.write_bytes(csv_export([cells(form, questionnaire, f) for f in filled]))
        size = export.stat().st_size / 1e6
        load = os.getloadavg()[0]
        print(f"{describe(url)}: {questionnaire.id} v{questionnaire.version}, load {load:.1f}")
        print(
            f"wrote {args.count} submissions as a Kobo CSV ({size:.1f} MB) "
            f"in {time.perf_counter() - started:.1f} s (not timed below)"
        )
        command = [
            "assessments", "import", str(export), "--questionnaire", questionnaire.id,
            "--links", str(Path(folder) / "links.csv"),
        ]  # fmt: skip
        if not args.no_campaign:
            command += ["--campaign", code]
        timings = []
        for attempt in ("first import", "same file again"):
            started, cpu = time.perf_counter(), time.process_time()
            result = runner.invoke(args=command)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            timings.append(elapsed)
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                raise result.exception
            assert result.exit_code == 0, result.output[-2000:]
            summary = result.output.strip().splitlines()[-1]
            print(
                f"{attempt}: {elapsed:.1f} s = {elapsed / args.count * 1000:.1f} ms each, "
                f"{cpu:.1f} s of this process's CPU ({summary})"
            )
        with app.app_context():
            stored = db.session.scalar(sa.select(sa.func.count()).select_from(Assessment))
        print(f"assessments stored: {stored}")
        ok = timings[0] < TARGET_SECONDS and stored == args.count
        print(f"target < {TARGET_SECONDS} s for {args.count}: {'met' if ok else 'MISSED'}")
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
