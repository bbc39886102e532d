"""Figures over members' results, released in cohorts (docs/SECURITY.md T7).

- A member is an organisation: its newest submitted result counts, older ones
  (superseded by a re-assessment) count nowhere.
- Figures are computed in SQL (GROUP BY), never by looping over rows in Python,
  and only inside a *release*: a frozen snapshot made once at least
  MIN_GROUP_SIZE members completed, and again only once at least MIN_GROUP_SIZE
  member results are new or changed. One more member never moves a figure, so
  comparing two releases never isolates fewer than MIN_GROUP_SIZE organisations.
- Participation (started, completed) is live: it says nothing about results.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
from flask_babel import gettext as _

from ..extensions import db
from ..i18n import format_number
from ..models import Assessment
from ..models import Release
from ..models import ResultItem
from ..models import utcnow
from . import breakdowns

MIN_GROUP_SIZE = 5
SMALL_COUNT = 3  # a count below this is shown as "fewer than 3"
RELEASE_LOCK = 0x52454C  # "REL": the first key of the PostgreSQL advisory lock on releases


def too_few(count: int) -> bool:
    """One or two organisations: a count never shown as a number (the dashboard, the
    CSV and the API say "fewer than 3"), so that a table cannot point at a single member."""
    return 0 < count < SMALL_COUNT


def shown_count(value: int) -> int | str:
    """A number of organisations as a table or export cell: one or two only as text."""
    return _("Fewer than %(minimum)s", minimum=SMALL_COUNT) if too_few(value) else value


def format_count(value: int) -> str:
    """A number of organisations in a breakdown: one or two only as "fewer than 3"."""
    shown = shown_count(value)
    return shown if isinstance(shown, str) else format_number(shown)


def shown_share(count: int, members: int) -> float:
    """The share a bar may draw: none for a count shown as "fewer than 3"."""
    return 0.0 if count < SMALL_COUNT or not members else 100 * count / members


def counted(*conditions) -> tuple:
    """The results that count: submitted, and not superseded by a newer one."""
    return (Assessment.submitted_at.is_not(None), Assessment.superseded.is_(False), *conditions)


def counted_ids(*conditions):
    return sa.select(Assessment.id).where(*counted(*conditions)).scalar_subquery()


@dataclass
class Participation:
    """Live counts of organisations: they never reveal a result."""

    started: int
    completed: int

    @property
    def completion_rate(self) -> float:
        return 100 * self.completed / self.started if self.started else 0.0

    @property
    def members_needed(self) -> int:
        return max(0, MIN_GROUP_SIZE - self.completed)


def participation(*conditions) -> Participation:
    member = sa.func.coalesce(Assessment.member_id, Assessment.id)
    started = db.session.scalar(sa.select(sa.func.count(sa.distinct(member))).where(*conditions))
    completed = db.session.scalar(sa.select(sa.func.count()).where(*counted(*conditions)))
    return Participation(started or 0, completed or 0)


@dataclass
class Summary:
    """The figures of one release."""

    members: int
    overall_mean: float | None = None
    overall_median: float | None = None
    dimensions: dict = field(default_factory=dict)  # id -> [mean, median]
    commitments: dict = field(default_factory=dict)  # id -> {status: members}
    levels: dict = field(default_factory=dict)  # level id -> count
    knockouts: list = field(default_factory=list)  # [[question id, count]]
    actions: list = field(default_factory=list)  # [[action id, count]]
    breakdowns: dict = field(default_factory=dict)  # profile field -> [[group, count, mean]]
    groups: dict = field(default_factory=dict)  # a campaign's: breakdowns.campaign_breakdowns

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Summary:
        return cls(**data)


def in_one_group(*conditions):
    """The counted results matching `conditions` as (assessment_id, grp), all in one
    group: what `medians` reads for a release's own figures."""
    return (
        sa.select(Assessment.id.label("assessment_id"), sa.literal("").label("grp"))
        .where(*counted(*conditions))
        .subquery()
    )


def medians(groups) -> dict:
    """{(group, kind, key): median} of the overall and area scores of the results in
    `groups` (a subquery of assessment_id, grp), in one query: window functions rank
    each group's values, and only the middle one or two rows come back."""
    partition = (groups.c.grp, ResultItem.kind, ResultItem.key)
    ranked = (
        sa.select(
            groups.c.grp,
            ResultItem.kind,
            ResultItem.key,
            ResultItem.value,
            sa.func.row_number()
            .over(partition_by=partition, order_by=ResultItem.value)
            .label("position"),
            sa.func.count().over(partition_by=partition).label("size"),
        )
        .select_from(groups)  # each result's items through their index, not a scan
        .join(ResultItem, ResultItem.assessment_id == groups.c.assessment_id)
        .where(ResultItem.kind.in_(("overall", "dimension")), ResultItem.value.is_not(None))
        .subquery()
    )
    middle = sa.select(ranked.c.grp, ranked.c.kind, ranked.c.key, ranked.c.value).where(
        ranked.c.position.in_(((ranked.c.size + 1) // 2, (ranked.c.size + 2) // 2))
    )
    values = {}
    for group, kind, key, value in db.session.execute(middle):
        values.setdefault((group, kind, key), []).append(value)
    return {where: sum(found) / len(found) for where, found in values.items()}


def summarize(members: int, conditions, breakdown_fields=()) -> Summary:
    """The figures over the counted results matching `conditions`: one GROUP BY over
    every figure, and one query for the medians."""
    summary = Summary(members=members)
    ids = counted_ids(*conditions)
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
    tallies = {"level": {}, "knockout": {}, "action": {}}
    middle = medians(in_one_group(*conditions))
    for kind, key, status, count, mean in db.session.execute(figures):
        if kind == "overall":
            summary.overall_mean = float(mean) if mean is not None else None
            summary.overall_median = middle.get(("", "overall", ""))
        elif kind == "dimension":
            summary.dimensions[key] = [float(mean), middle.get(("", "dimension", key))]
        elif kind == "commitment":
            summary.commitments.setdefault(key, {})[status] = count
        elif kind in tallies:
            tallies[kind][key] = count
    summary.levels = tallies["level"]
    summary.knockouts = _most_common(tallies["knockout"], 5)
    summary.actions = _most_common(tallies["action"], 10)
    summary.breakdowns = {f: breakdown(f, ids) for f in breakdown_fields}
    return summary


def _most_common(counts: dict, limit: int) -> list[list]:
    return [list(item) for item in sorted(counts.items(), key=lambda i: (-i[1], i[0]))[:limit]]


def breakdown(profile_field: str, ids) -> list[list]:
    """[group, members, mean overall] per value of a profile field; the mean only for
    groups of at least MIN_GROUP_SIZE."""
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
        [value, count, float(mean) if count >= MIN_GROUP_SIZE and mean is not None else None]
        for value, count, mean in db.session.execute(query)
    ]


NATIONAL_BREAKDOWNS = ("p_region", "p_sector", "p_dotacion_total", "p_tipo_organizacion")


@dataclass
class Published:
    """The release in force: when it was made, over how many members, its figures."""

    created_at: object
    members: int
    summary: Summary


def _scope(campaign_id: int | None):
    """Results of one campaign, or (None) of every organisation: the national overview."""
    return Assessment.campaign_id == campaign_id if campaign_id is not None else sa.true()


_RELEASES = Release.__table__


def newest_release(owner, *columns) -> sa.Select:
    """`columns` of the release in force of the campaign `owner` says: the newest by id
    (ix_releases_campaign_latest)."""
    return sa.select(*columns).where(owner).order_by(_RELEASES.c.id.desc()).limit(1)


def _releases_of(campaign_id: int | None):
    """The releases of a campaign, or (None) the national ones."""
    if campaign_id is None:
        return _RELEASES.c.campaign_id.is_(None)
    return _RELEASES.c.campaign_id == campaign_id


def release_in_force(campaign_id: int | None) -> sa.Row | None:
    """(id, created_at) of the release in force for a campaign (None: national); None
    before the first. A release is frozen when it is made: what it holds never changes."""
    columns = (_RELEASES.c.id, _RELEASES.c.created_at)
    return db.session.execute(newest_release(_releases_of(campaign_id), *columns)).first()


def latest_release(campaign_id: int | None) -> Published | None:
    """The release in force for a campaign (None: national); None before the first."""
    release = db.session.scalars(newest_release(_releases_of(campaign_id), Release)).first()
    return None if release is None else published(release)


def published(release: Release) -> Published:
    return Published(release.created_at, release.members, Summary.from_json(release.figures))


def _lock_releases(campaign_id: int | None) -> None:
    """Until this transaction ends, no other one may make a release of this campaign
    (or the national one). On PostgreSQL two submits at once would each count the other's
    result as not yet there and both make a release, one member apart: comparing them
    would show one organisation's result. The second now waits for the first to commit
    and counts again (READ COMMITTED: each statement sees what was committed before it).
    SQLite lets one writer at a time: its submits cannot overlap."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(RELEASE_LOCK, campaign_id or 0)))


def refresh_release(campaign_id: int | None) -> None:
    """Make a new release once at least MIN_GROUP_SIZE member results are new or
    changed since the last one. Called in the transaction that submits a result."""
    _lock_releases(campaign_id)
    scope = _scope(campaign_id)
    in_force = release_in_force(campaign_id)
    since = () if in_force is None else (Assessment.submitted_at > in_force.created_at,)
    changed = db.session.scalar(sa.select(sa.func.count()).where(*counted(scope, *since)))
    if changed < MIN_GROUP_SIZE:
        return
    members = db.session.scalar(sa.select(sa.func.count()).where(*counted(scope)))
    fields = NATIONAL_BREAKDOWNS if campaign_id is None else ()
    summary = summarize(members, (scope,), fields)
    now = utcnow()
    if campaign_id is not None:
        summary.groups = breakdowns.campaign_breakdowns(campaign_id, now)
    figures = summary.to_json()
    db.session.add(
        Release(campaign_id=campaign_id, members=members, created_at=now, figures=figures)
    )
    db.session.flush()
