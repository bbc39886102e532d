"""Time a campaign's breakdowns (app/reporting/breakdowns.py) and its XLSX export.

Run by hand, from the project root:

    .venv/bin/python bench/breakdowns.py
    .venv/bin/python bench/breakdowns.py --database-url postgresql://postgres@127.0.0.1:5432/test

1. The rules alone (`plan_groups`, no database): campaigns of 200, 1,000 and 5,000
   members with skewed sectors, sizes and regions, one in ten re-assessing, broken down
   on the release schedule (at 5, 10, 20, 40 ... members). Each call weighs every
   earlier breakdown; the last one is the costliest. Prints each size's last call and
   the sum of all calls (CPU seconds, time.process_time).
2. Through the database: bench/dashboard.py's loader puts --count submitted members
   in a campaign; then `campaign_breakdowns` (the part of a release that the
   breakdowns add: the rules and every group's figures in SQL) and GET export.xlsx
   (whole body) and export.csv are timed, --repeat times each.

Nothing here runs in the test suite; everything stops by itself.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As in bench/dashboard.py: keep bench/ off sys.path (bench/http.py shadows `http`).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.extensions import db  # noqa: E402
from app.models import utcnow  # noqa: E402
from app.reporting.breakdowns import Earlier  # noqa: E402
from app.reporting.breakdowns import campaign_breakdowns  # noqa: E402
from app.reporting.breakdowns import plan_groups  # noqa: E402
from bench.dashboard import create_bench_app  # noqa: E402
from bench.dashboard import describe  # noqa: E402
from bench.dashboard import load_campaign  # noqa: E402
from bench.dashboard import login  # noqa: E402
from bench.dashboard import prepared_database  # noqa: E402
from bench.dashboard import seed_association  # noqa: E402

SECTORS, BANDS, REGIONS = 12, 5, 16


def skewed(rng: random.Random, count: int) -> int:
    """A value of `count`, the first ones far more often (as members of a regional
    association are: a few sectors and regions hold most of them)."""
    return min(count - 1, int(rng.expovariate(0.45)))


def synthetic_plans(members: int, seed: int = 1) -> tuple[float, float, int]:
    """(CPU s of the last breakdown, CPU s of all, breakdowns made) for one campaign."""
    rng = random.Random(seed)
    current, earlier, next_at, last, total = {}, [], 5, 0.0, 0.0
    result_id = 0
    while next_at <= members:
        result_id += 1
        again = current and rng.random() < 0.1  # a member re-assesses
        key = rng.randrange(len(current)) if again else len(current)
        values = (f"s{skewed(rng, SECTORS)}", f"b{skewed(rng, BANDS)}", f"r{skewed(rng, REGIONS)}")
        current[key] = (result_id, values)
        if len(current) == next_at and not again:
            began = time.process_time()
            plan = plan_groups(dict(current), earlier)
            last = time.process_time() - began
            total += last
            earlier.append(Earlier(plan, dict(current)))
            next_at *= 2
    return last, total, len(earlier)


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        times.append(1000 * (time.perf_counter() - began))
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh temporary SQLite file")
    parser.add_argument("--count", type=int, default=10_000, help="members in the campaign")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls of each")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print("the rules alone (plan_groups), on the release schedule")
    print(f"{'members':>8} {'breakdowns':>10} {'last call s':>12} {'all calls s':>12}")
    for members in (200, 1_000, 5_000):
        last, total, made = synthetic_plans(members)
        print(f"{members:>8,} {made:>10} {last:>12.2f} {total:>12.2f}")

    with prepared_database(args.database_url) as url:
        app = create_bench_app(url)
        try:
            print(f"\ndatabase: {describe(url)}")
            campaign_id = seed_association(app)
            load_campaign(app, campaign_id, count=args.count, with_answers=False)
            with app.app_context():
                breakdowns = timed(lambda: campaign_breakdowns(campaign_id, utcnow()), args.repeat)
                db.session.rollback()
            client = app.test_client()
            login(client)
            base = f"/es/associations/campaigns/{campaign_id}"

            def download(suffix):
                response = client.get(f"{base}/{suffix}")
                size = len(response.get_data())
                response.close()
                return size

            xlsx = timed(lambda: download("export.xlsx"), args.repeat)
            csv = timed(lambda: download("export.csv"), args.repeat)
            print(f"{args.count:,} members, {args.repeat} calls each (ms)")
            for name, times in (
                ("breakdowns", breakdowns),
                ("export.xlsx", xlsx),
                ("export.csv", csv),
            ):
                print(f"  {name:<12} p50 {statistics.median(times):8.0f}  max {max(times):8.0f}")
            print(f"  export.xlsx {download('export.xlsx'):,} bytes")
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
