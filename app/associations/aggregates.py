"""Aggregates over submitted results, computed in SQL (GROUP BY), never by
looping over rows in Python. Nothing is shown below MIN_GROUP_SIZE results
(SECURITY.md T7)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa

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
    def missing(self) -> int:
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


def _items(ids, kind, *columns):
    return sa.select(*columns).where(ResultItem.kind == kind, ResultItem.assessment_id.in_(ids))


def median(ids, kind: str, key: str, count: int) -> float | None:
    """The median by ORDER BY / OFFSET, which SQLite and PostgreSQL both run."""
    if not count:
        return None
    middle = (
        _items(ids, kind, ResultItem.value)
        .where(ResultItem.key == key, ResultItem.value.is_not(None))
        .order_by(ResultItem.value)
        .offset((count - 1) // 2)
        .limit(2 - count % 2)
    )
    values = list(db.session.scalars(middle))
    return sum(values) / len(values)


def _counts(ids, kind):
    query = (
        _items(ids, kind, ResultItem.key, sa.func.count())
        .group_by(ResultItem.key)
        .order_by(sa.func.count().desc(), ResultItem.key)
    )
    return [(key, count) for key, count in db.session.execute(query)]


def summarize(*conditions, started_conditions=None) -> Summary:
    """Aggregates over the submitted assessments matching `conditions`."""
    started = db.session.scalar(
        sa.select(sa.func.count(Assessment.id)).where(*(started_conditions or conditions))
    )
    ids = submitted_ids(*conditions)
    completed = db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery()))
    summary = Summary(started=started or 0, completed=completed or 0)
    if not summary.enough:
        return summary
    stats = _items(
        ids, "dimension", ResultItem.key, sa.func.avg(ResultItem.value), sa.func.count()
    ).group_by(ResultItem.key)
    for key, mean, count in db.session.execute(stats):
        summary.dimensions[key] = (float(mean), median(ids, "dimension", key, count))
    mean, count = db.session.execute(
        _items(ids, "overall", sa.func.avg(ResultItem.value), sa.func.count())
    ).one()
    summary.overall_mean = float(mean) if mean is not None else None
    summary.overall_median = median(ids, "overall", "", count)
    shares = _items(ids, "commitment", ResultItem.key, ResultItem.status, sa.func.count()).group_by(
        ResultItem.key, ResultItem.status
    )
    for key, status, count in db.session.execute(shares):
        summary.commitments.setdefault(key, {})[status] = 100 * count / summary.completed
    summary.levels = dict(_counts(ids, "level"))
    summary.knockouts = _counts(ids, "knockout")[:5]
    summary.actions = _counts(ids, "action")[:10]
    return summary


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
