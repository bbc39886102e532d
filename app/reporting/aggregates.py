"""Aggregates over submitted results, computed in SQL (GROUP BY), never by
looping over rows in Python. Nothing is shown below MIN_GROUP_SIZE results
(docs/SECURITY.md T7)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa

from ..cache import campaign_summaries
from ..extensions import db
from ..models import Assessment
from ..models import ResultItem

MIN_GROUP_SIZE = 5


@dataclass
class Summary:
    started: int
    completed: int
    overall_mean: float | None = None
    overall_median: float | None = None
    dimensions: dict = field(default_factory=dict)  # id -> (mean, median)
    commitments: dict = field(default_factory=dict)  # id -> {status: share 0-100}
    levels: dict = field(default_factory=dict)  # level id -> count
    knockouts: list = field(default_factory=list)  # [(question id, count)]
    actions: list = field(default_factory=list)  # [(action id, count)]

    @property
    def enough(self) -> bool:
        return self.completed >= MIN_GROUP_SIZE

    @property
    def members_needed(self) -> int:
        return max(0, MIN_GROUP_SIZE - self.completed)

    @property
    def completion_rate(self) -> float:
        return 100 * self.completed / self.started if self.started else 0.0


def submitted_ids(*conditions):
    """A subquery of submitted assessment ids matching the conditions."""
    return (
        sa.select(Assessment.id)
        .where(Assessment.submitted_at.is_not(None), *conditions)
        .scalar_subquery()
    )


def median(ids, kind: str, key: str, count: int) -> float | None:
    """The median by ORDER BY / OFFSET, which SQLite and PostgreSQL both run."""
    if not count:
        return None
    middle = (
        sa.select(ResultItem.value)
        .where(
            ResultItem.kind == kind,
            ResultItem.key == key,
            ResultItem.assessment_id.in_(ids),
            ResultItem.value.is_not(None),
        )
        .order_by(ResultItem.value)
        .offset((count - 1) // 2)
        .limit(2 - count % 2)
    )
    values = list(db.session.scalars(middle))
    return sum(values) / len(values)


def summarize(*conditions) -> Summary:
    """Aggregates over the submitted assessments matching `conditions`: one GROUP BY
    over every figure, then one ORDER BY/OFFSET query per median."""
    started, completed = db.session.execute(
        sa.select(sa.func.count(Assessment.id), sa.func.count(Assessment.submitted_at)).where(
            *conditions
        )
    ).one()
    summary = Summary(started=started or 0, completed=completed or 0)
    if not summary.enough:
        return summary
    ids = submitted_ids(*conditions)
    figures = (
        sa.select(
            ResultItem.kind,
            ResultItem.key,
            ResultItem.status,
            sa.func.count(),
            sa.func.avg(ResultItem.value),
        )
        .where(ResultItem.assessment_id.in_(ids))
        .group_by(ResultItem.kind, ResultItem.key, ResultItem.status)
    )
    counted = {"level": {}, "knockout": {}, "action": {}}
    for kind, key, status, count, mean in db.session.execute(figures):
        if kind == "overall":
            summary.overall_mean = float(mean) if mean is not None else None
            summary.overall_median = median(ids, "overall", "", count)
        elif kind == "dimension":
            summary.dimensions[key] = (float(mean), median(ids, "dimension", key, count))
        elif kind == "commitment":
            summary.commitments.setdefault(key, {})[status] = 100 * count / summary.completed
        elif kind in counted:
            counted[kind][key] = count
    summary.levels = counted["level"]
    summary.knockouts = _most_common(counted["knockout"], 5)
    summary.actions = _most_common(counted["action"], 10)
    return summary


def _most_common(counts: dict, limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def conditions_key(conditions) -> tuple:
    """A cache key made of the SQL of each condition and its parameters, so that two
    different filters can never share an entry."""
    compiled = [condition.compile() for condition in conditions]
    return tuple((str(c), tuple(sorted(c.params.items()))) for c in compiled)


def cached_summary(*conditions, fresh_for: float = 0) -> Summary:
    """`summarize`, recomputed only when the matching assessments changed.

    The signature (started, submitted, latest submission, sum of submitted ids)
    costs one indexed query, which grows with the campaign; results never change
    once submitted. A summary checked less than `fresh_for` seconds ago is used
    without asking again."""
    key = conditions_key(conditions)
    hit = campaign_summaries.get(key)
    now = time.monotonic()
    if hit and now - hit[2] < fresh_for:
        return hit[1]
    signature = tuple(
        db.session.execute(
            sa.select(
                sa.func.count(Assessment.id),
                sa.func.count(Assessment.submitted_at),
                sa.func.max(Assessment.submitted_at),
                sa.func.sum(sa.case((Assessment.submitted_at.is_not(None), Assessment.id))),
            ).where(*conditions)
        ).one()
    )
    summary = hit[1] if hit and hit[0] == signature else summarize(*conditions)
    campaign_summaries.put(key, (signature, summary, now))
    return summary


def campaign_summary(campaign_id: int, fresh_for: float = 0) -> Summary:
    return cached_summary(Assessment.campaign_id == campaign_id, fresh_for=fresh_for)


def completed_count(*conditions) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Assessment.id)).where(
            Assessment.submitted_at.is_not(None), *conditions
        )
    )


def breakdown(profile_field: str, *conditions) -> list[tuple[str, int, float | None]]:
    """(group, completed, mean overall) per value of a profile field; small groups hidden."""
    ids = submitted_ids(*conditions)
    group = sa.orm.aliased(ResultItem)
    overall = sa.orm.aliased(ResultItem)
    query = (
        sa.select(group.status, sa.func.count(), sa.func.avg(overall.value))
        .join(
            overall,
            sa.and_(overall.assessment_id == group.assessment_id, overall.kind == "overall"),
        )
        .where(group.kind == "profile", group.key == profile_field, group.assessment_id.in_(ids))
        .group_by(group.status)
        .order_by(group.status)
    )
    return [
        (value, count, float(mean) if count >= MIN_GROUP_SIZE and mean is not None else None)
        for value, count, mean in db.session.execute(query)
    ]
