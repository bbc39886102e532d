"""The campaign medians a member sees beside its own scores."""

from __future__ import annotations

from ..cache import campaign_benchmarks
from ..extensions import db
from ..models import Release
from .aggregates import MIN_GROUP_SIZE
from .aggregates import published

ROUND_TO = 5  # points: a median is a range, not a figure to subtract from
_NOT_KEPT = object()


def rounded(value: float | None) -> int | None:
    return None if value is None else int(ROUND_TO * round(value / ROUND_TO))


def campaign_benchmark(record) -> dict | None:
    """The medians of the release in force of a submitted assessment's campaign (read with
    it: store.find's row), rounded to 5 points, once it holds at least MIN_GROUP_SIZE
    members besides the one looking; None outside a campaign. Members that an association
    made up could otherwise reveal a real member's exact score."""
    if record.release_id is None:  # outside a campaign, or before its first release
        return None
    key = (record.campaign_id, record.release_id, record.release_created_at)
    benchmark = campaign_benchmarks.get(key, _NOT_KEPT)  # cache.CAMPAIGN_BENCHMARKS
    if benchmark is _NOT_KEPT:
        benchmark = medians_shown(published(db.session.get(Release, record.release_id)))
        campaign_benchmarks.put(key, benchmark)
    return benchmark


def medians_shown(release) -> dict | None:
    """A release's medians as a member sees them (None: too few members)."""
    if release.members < MIN_GROUP_SIZE + 1:
        return None
    summary = release.summary
    medians = {d: rounded(stats[1]) for d, stats in summary.dimensions.items()}
    return {"overall": rounded(summary.overall_median), "dimensions": medians}
