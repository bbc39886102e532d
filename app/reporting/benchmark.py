"""The campaign medians a member sees beside its own scores."""

from __future__ import annotations

from .aggregates import campaign_summary

# Members of a campaign the size of a country's trade association open their
# results in bursts: medians up to a few seconds old are as good beside them.
BENCHMARK_FRESH_SECONDS = 10


def campaign_benchmark(campaign_id: int | None) -> dict | None:
    """The campaign's medians, once enough members took part; None outside a campaign."""
    if campaign_id is None:
        return None
    summary = campaign_summary(campaign_id, fresh_for=BENCHMARK_FRESH_SECONDS)
    if not summary.enough:
        return None
    medians = {d: stats[1] for d, stats in summary.dimensions.items()}
    return {"overall": summary.overall_median, "dimensions": medians}
