"""Completions that look made up: many from one place within minutes.

Cohorts protect members from an association that only looks at figures; they cannot
stop one that fabricates submissions through its own link. What staff can see is
the trace: joins carry a keyed hash of their address (never the address)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Assessment
from ..models import Campaign
from .aggregates import counted

WINDOW = timedelta(minutes=10)
SUSPICIOUS = 3  # completions from one place within WINDOW


@dataclass(frozen=True)
class Cluster:
    campaign: Campaign
    completions: int  # counted results in the campaign
    largest: int  # the most completions from one place within WINDOW


def _largest_burst(times: list) -> int:
    """The most timestamps inside any WINDOW (times sorted)."""
    largest, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > WINDOW:
            start += 1
        largest = max(largest, end - start + 1)
    return largest


def suspicious_campaigns() -> list[Cluster]:
    """Campaigns with SUSPICIOUS or more completions from one place within WINDOW."""
    rows = db.session.execute(
        sa.select(Assessment.campaign_id, Assessment.join_origin, Assessment.submitted_at)
        .where(*counted(Assessment.campaign_id.is_not(None), Assessment.join_origin.is_not(None)))
        .order_by(Assessment.campaign_id, Assessment.join_origin, Assessment.submitted_at)
    )
    bursts: dict[int, int] = defaultdict(int)
    times: dict[tuple, list] = defaultdict(list)
    for campaign_id, origin, submitted_at in rows:
        times[(campaign_id, origin)].append(submitted_at)
    for (campaign_id, _origin), moments in times.items():
        bursts[campaign_id] = max(bursts[campaign_id], _largest_burst(moments))
    flagged = [c for c, largest in bursts.items() if largest >= SUSPICIOUS]
    if not flagged:
        return []
    totals = dict(
        db.session.execute(
            sa.select(Assessment.campaign_id, sa.func.count())
            .where(*counted(Assessment.campaign_id.in_(flagged)))
            .group_by(Assessment.campaign_id)
        ).all()
    )
    campaigns = db.session.scalars(sa.select(Campaign).where(Campaign.id.in_(flagged))).all()
    return sorted(
        (Cluster(c, totals.get(c.id, 0), bursts[c.id]) for c in campaigns),
        key=lambda cluster: (-cluster.largest, cluster.campaign.id),
    )
