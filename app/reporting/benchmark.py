"""The campaign medians a member sees beside its own scores."""

from __future__ import annotations

from .aggregates import MIN_GROUP_SIZE
from .aggregates import latest_release

ROUND_TO = 5  # points: a median is a range, not a figure to subtract from


def rounded(value: float | None) -> int | None:
    return None if value is None else int(ROUND_TO * round(value / ROUND_TO))


def campaign_benchmark(campaign_id: int | None) -> dict | None:
    """The medians of the campaign's release, rounded to 5 points, once it holds at least
    MIN_GROUP_SIZE members besides the one looking; None outside a campaign. Members
    that an association made up could otherwise reveal a real member's exact score."""
    if campaign_id is None:
        return None
    release = latest_release(campaign_id)
    if release is None or release.members < MIN_GROUP_SIZE + 1:
        return None
    summary = release.summary
    medians = {d: rounded(stats[1]) for d, stats in summary.dimensions.items()}
    return {"overall": rounded(summary.overall_median), "dimensions": medians}
