"""A campaign's release broken down by sector, size band and region, with every cell
under the release and threshold rules (docs/SECURITY.md T7).

Which groups a breakdown shows is decided on the members' profile values alone, never
on their scores:

1. A group of fewer than MIN_GROUP_SIZE members is counted under "Other".
2. An "Other" of one to four members also takes the next smallest group, and so on:
   the campaign's total minus the groups shown never isolates fewer than five.
3. Nothing published may give away the sum of one to four member results: not the
   groups of one breakdown against another's (a sector against a region), nor against
   the groups of an earlier breakdown of the campaign (one more member in a sector).
   Groups move into "Other" until that holds.

A breakdown is frozen in the release that makes it, and renewed only once at least as
many member results are new or changed as it counted (at 5, 10, 20, 40 ... members):
rule 3 then weighs a handful of earlier breakdowns, not one per release. The groups'
figures are computed in SQL: one GROUP BY and one query for the medians
(`aggregates.medians`, as for the campaign's own figures) per breakdown.
"""

from __future__ import annotations

import random
from collections import Counter
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Assessment
from ..models import Release
from ..models import ResultItem
from . import aggregates

FIELDS = ("p_sector", "p_dotacion_total", "p_region")  # size: the bands of result_rows
OTHER = "*"  # the group of every value not shown on its own
NOT_STATED = "~"  # a member that left the field empty
PRIME = 2**61 - 1  # the field in which rule 3's linear algebra is done
TITLES = {
    "p_sector": _l("By sector"),
    "p_dotacion_total": _l("By size (staff)"),
    "p_region": _l("By region"),
}
SIZE_BANDS = {  # result_rows.SIZE_BANDS, in words
    "0": _l("No staff"),
    "1-9": _l("1 to 9 people"),
    "10-49": _l("10 to 49 people"),
    "50-199": _l("50 to 199 people"),
    "200+": _l("200 people or more"),
}

# A member: (result id, its value for each of FIELDS). A plan: for each of FIELDS,
# {value: its group}, the group being the value itself or OTHER.


@dataclass
class Earlier:
    """An earlier breakdown: its plan, and the members it counted when it was made."""

    plan: list
    members: dict  # member key -> (result id, values)


# --- The rules, on profile values only ------------------------------------------------


def plan_groups(members: dict, earlier: list[Earlier]) -> list:
    """The groups each breakdown may show for the counted `members` (key -> member)."""
    counts = [Counter(m[1][index] for m in members.values()) for index in range(len(FIELDS))]
    plan = [
        {value: value if n >= aggregates.MIN_GROUP_SIZE else OTHER for value, n in c.items()}
        for c in counts
    ]
    while True:
        for groups, field_counts in zip(plan, counts, strict=True):
            _complete_other(groups, field_counts)
        merge = _disclosing(plan, members, counts, earlier)
        if merge is None:
            return plan
        index, merged = merge
        for value in merged:
            plan[index][value] = OTHER


def _group_sizes(groups: dict, counts: Counter) -> Counter:
    sizes = Counter()
    for value, group in groups.items():
        sizes[group] += counts[value]
    return sizes


def _complete_other(groups: dict, counts: Counter) -> None:
    """Rule 2: "Other" takes the next smallest group until it holds none or at least five."""
    while 0 < _group_sizes(groups, counts)[OTHER] < aggregates.MIN_GROUP_SIZE:
        shown = [value for value, group in groups.items() if group != OTHER]
        if not shown:
            return
        groups[min(shown, key=lambda value: (counts[value], value))] = OTHER


def _disclosing(plan: list, members: dict, counts: list, earlier: list[Earlier]):
    """Rule 3: (field index, values) of a group to merge if what the plan would publish
    gives away a small set: the smallest group whose merging into "Other" stops that,
    else the smallest group of a member in the set (another merge will follow)."""
    publication = _Publication(plan, members, earlier)
    given_away = publication.given_away()
    if given_away is None:
        return None
    shown = {(index, group) for index, groups in enumerate(plan) for group in groups.values()}
    involved = {
        (index, plan[index][values[index]])
        for result_id, values in members.values()
        if result_id in given_away
        for index in range(len(FIELDS))
    }
    chosen = next(
        (pair for pair in _by_size(plan, counts, shown) if publication.merging_stops(*pair)),
        None,
    )
    fallback = _by_size(plan, counts, involved) + _by_size(plan, counts, shown)
    for index, group in [chosen] if chosen else fallback:
        return index, [value for value, g in plan[index].items() if g == group]
    return None


def _by_size(plan: list, counts: list, groups: set) -> list:
    """The (field index, group) pairs shown on their own, smallest first."""
    return sorted(
        ((i, g) for i, g in groups if g != OTHER),
        key=lambda pair: (_group_sizes(plan[pair[0]], counts[pair[0]])[pair[1]], pair),
    )


class _Publication:
    """What a plan would publish together with the earlier breakdowns. The unknowns are
    member results; results that every published group treats alike form one cell, and
    each group of each breakdown publishes the sum over its cells: a 0/1 row.

    A set's sum can be worked out exactly when its indicator lies in the span of the
    rows: when it is orthogonal to their null space. One random null-space vector
    (mod a large prime) stands for the whole space; a set that looks orthogonal to it
    by chance (about 1 in 2^61) only merges one group too many."""

    def __init__(self, plan: list, members: dict, earlier: list[Earlier]):
        layers = [(e.plan, e.members) for e in earlier] + [(plan, members)]
        results = dict(m for _plan, counted in layers for m in counted.values())
        present = [{result_id for result_id, _v in counted.values()} for _p, counted in layers]
        self.cell_of = {
            result_id: tuple(
                tuple(p[i].get(values[i]) for i in range(len(FIELDS))) if result_id in ids else None
                for (p, _counted), ids in zip(layers, present, strict=True)
            )
            for result_id, values in results.items()
        }
        self.sizes = Counter(self.cell_of.values())
        self.cells = list(self.sizes)
        last = len(layers) - 1
        self.labels = [  # (layer, field index, group) of each row
            (layer, index, group)
            for layer, (p, _counted) in enumerate(layers)
            for index, groups in enumerate(p)
            for group in sorted(set(groups.values()))
        ]
        self.row_of = {
            (index, group): r
            for r, (layer, index, group) in enumerate(self.labels)
            if layer == last
        }
        rows = [
            [int(cell[layer] is not None and cell[layer][index] == group) for cell in self.cells]
            for layer, index, group in self.labels
        ]
        self.echelon = _Echelon(rows, len(self.cells))
        self.disclosed = None  # the cells of the set given_away found

    def given_away(self) -> set | None:
        """The result ids of a set of one to four results whose sum is published, if any."""
        weights = [self.sizes[cell] for cell in self.cells]
        self.disclosed = small_set_disclosed(weights, self.echelon.null_key())
        if self.disclosed is None:
            return None
        cells = {self.cells[index] for index in self.disclosed}
        return {result_id for result_id, cell in self.cell_of.items() if cell in cells}

    def merging_stops(self, index: int, group: str) -> bool:
        """Whether merging this plan's `group` of field `index` into its "Other" would
        leave the set found by given_away unpublished. Merging replaces the two rows by
        their sum: the set stays published if some combination of the rows giving it
        weighs both rows alike."""
        other = self.row_of.get((index, OTHER))
        if other is None:
            return False  # "Other" would be the group alone: the same row
        mine = self.row_of[(index, group)]
        weights = self.echelon.combination(self.disclosed)
        if weights[mine] == weights[other]:
            return False
        return not any(w[mine] != w[other] for w in self.echelon.dependencies)


class _Echelon:
    """Rows (0/1 over `width` columns) reduced mod PRIME, keeping track of how each
    reduced row combines the original ones, and of the combinations that vanish."""

    def __init__(self, rows: list[list[int]], width: int):
        count = len(rows)
        matrix = [row + [int(i == r) for i in range(count)] for r, row in enumerate(rows)]
        self.width = width
        self.pivots = []
        for column in range(width):
            top = len(self.pivots)
            found = next((r for r in range(top, count) if matrix[r][column]), None)
            if found is None:
                continue
            matrix[top], matrix[found] = matrix[found], matrix[top]
            inverse = pow(matrix[top][column], PRIME - 2, PRIME)
            matrix[top] = [x * inverse % PRIME for x in matrix[top]]
            # Rows stay sparse: subtract the pivot row only where it is not zero.
            nonzero = [(i, x) for i, x in enumerate(matrix[top]) if x]
            for r, row in enumerate(matrix):
                if r != top and row[column]:
                    factor = row[column]
                    for i, x in nonzero:
                        row[i] = (row[i] - factor * x) % PRIME
            self.pivots.append(column)
        self.reduced = [row[:width] for row in matrix[: len(self.pivots)]]
        self.tracks = [row[width:] for row in matrix[: len(self.pivots)]]
        self.dependencies = [row[width:] for row in matrix[len(self.pivots) :]]

    def null_key(self) -> list[int]:
        """Each column's entry in one random vector of the rows' null space."""
        pivotal = set(self.pivots)
        rng = random.Random(0)  # noqa: S311 (reproducible releases; not a secret)
        vector = [0 if c in pivotal else rng.randrange(1, PRIME) for c in range(self.width)]
        for row, column in zip(self.reduced, self.pivots, strict=True):
            vector[column] = -sum(x * y for x, y in zip(row, vector, strict=True)) % PRIME
        return vector

    def combination(self, columns: list[int]) -> list[int]:
        """How the original rows combine into the indicator of `columns`, which must lie
        in their span: each reduced row weighs as the indicator at its pivot."""
        chosen = set(columns)
        weights = [0] * len(self.tracks[0]) if self.tracks else []
        for track, column in zip(self.tracks, self.pivots, strict=True):
            if column in chosen:
                weights = [(w + t) % PRIME for w, t in zip(weights, track, strict=True)]
        return weights


def small_set_disclosed(weights: list[int], keys: list[int]) -> list[int] | None:
    """Cells (indices) holding one to four results in all whose keys sum to 0 mod PRIME
    (`keys`: each cell's entry in a null-space vector): a set whose sum is published.
    One or two cells are looked up by key; three (at most 2 + 1 + 1 results) or four
    (one each) through the sums of pairs of cells of one or two results."""
    alone = defaultdict(list)
    for c, weight in enumerate(weights):
        if weight < aggregates.MIN_GROUP_SIZE:
            if keys[c] == 0:
                return [c]
            alone[keys[c]].append(c)
    for c in (c for cells in alone.values() for c in cells):
        for d in alone.get(-keys[c] % PRIME, ()):
            if d != c and weights[c] + weights[d] < aggregates.MIN_GROUP_SIZE:
                return [c, d]
    pairs = defaultdict(list)
    for a, b in combinations([c for c, weight in enumerate(weights) if weight <= 2], 2):
        if weights[a] + weights[b] <= 3:
            pairs[(keys[a] + keys[b]) % PRIME].append((a, b, weights[a] + weights[b]))
    for total, found in pairs.items():
        opposite = -total % PRIME
        for a, b, weight in found:
            for c in alone.get(opposite, ()):
                if c not in (a, b) and weight + weights[c] < aggregates.MIN_GROUP_SIZE:
                    return [a, b, c]
            for c, d, other in pairs.get(opposite, ()) if weight == 2 else ():
                if other == 2 and len({a, b, c, d}) == 4:
                    return [a, b, c, d]
    return None


# --- From the database ----------------------------------------------------------------


@dataclass
class Breakdown:
    """The breakdowns in force: when they were made, over how many members, their groups
    ({field: [group rows]}, largest first and "Other" last)."""

    released: datetime
    members: int
    fields: dict


def in_force(summary) -> Breakdown | None:
    """The breakdowns a release shows (made by it or by an earlier one); None in a
    release from before breakdowns existed."""
    groups = summary.groups
    if not groups:
        return None
    return Breakdown(
        datetime.fromisoformat(groups["released"]), groups["members"], groups["fields"]
    )


def shown_fields(breakdown: Breakdown, questionnaire) -> list[tuple]:
    """(field id, groups) of each breakdown the campaign's questionnaire asks about."""
    return [
        (field_id, groups)
        for field_id, groups in breakdown.fields.items()
        if field_id in questionnaire.fields
    ]


def field_title(field_id: str) -> str:
    return str(TITLES[field_id])


def value_label(questionnaire, content, field_id: str, value: str) -> str:
    if value == NOT_STATED:
        return _("Not stated")
    if value in SIZE_BANDS and field_id == "p_dotacion_total":
        return str(SIZE_BANDS[value])
    field = questionnaire.fields[field_id]
    option = field.option_by_value.get(value) if field.options else None
    return content.option(field, option) if option else value


def value_labels(questionnaire, content, field_id: str, values) -> str:
    """Values in words, in the questionnaire's order (sizes from small to large)."""
    field = questionnaire.fields[field_id]
    order = [o.value for o in field.options] if field.options else list(SIZE_BANDS)
    ordered = sorted(values, key=lambda v: (order.index(v) if v in order else len(order), v))
    return ", ".join(value_label(questionnaire, content, field_id, v) for v in ordered)


def group_label(questionnaire, content, field_id: str, group: dict) -> str:
    """A group's name: its value in words, or "Other" with the values it holds."""
    if group["group"] != OTHER:
        return value_label(questionnaire, content, field_id, group["group"])
    return _(
        "Other: %(values)s", values=value_labels(questionnaire, content, field_id, group["values"])
    )


def campaign_breakdowns(campaign_id: int, now: datetime) -> dict:
    """What a new release of the campaign made at `now` holds as breakdowns: new ones,
    or those in force until as many member results are new or changed as they counted."""
    history = _history(campaign_id)
    releases = db.session.scalars(
        sa.select(Release).where(Release.campaign_id == campaign_id).order_by(Release.id)
    ).all()
    made = [r for r in releases if (r.figures.get("groups") or {}).get("fresh")]
    counted = _counted_now(history, campaign_id)
    if made:
        current = made[-1].figures["groups"]
        changed = sum(1 for r in counted.values() if r.submitted_at > made[-1].created_at)
        if changed < current["members"]:
            return {**current, "fresh": False}
    members = {key: (r.id, r.values) for key, r in counted.items()}
    earlier = [_earlier(release, history, campaign_id) for release in made]
    plan = plan_groups(members, earlier)
    counts = [Counter(m[1][index] for m in members.values()) for index in range(len(FIELDS))]
    scope = Assessment.campaign_id == campaign_id
    complete = _complete_figures(scope, len(members))
    fields = {
        field: _figures(field, plan[index], counts[index], scope, complete)
        for index, field in enumerate(FIELDS)
    }
    return {"fresh": True, "released": now.isoformat(), "members": len(members), "fields": fields}


@dataclass(frozen=True)
class _Result:
    id: int
    submitted_at: datetime
    campaign_id: int | None
    superseded: bool
    values: tuple  # one for each of FIELDS


def _history(campaign_id: int) -> dict:
    """Every submitted result of the campaign's members (in any campaign), by member,
    oldest first, with its profile values."""
    member = sa.func.coalesce(Assessment.member_id, Assessment.id)
    keys = sa.select(member).where(
        Assessment.campaign_id == campaign_id, Assessment.submitted_at.is_not(None)
    )
    mine = (Assessment.submitted_at.is_not(None), member.in_(keys))
    values = defaultdict(dict)
    profile = sa.select(ResultItem.assessment_id, ResultItem.key, ResultItem.status).where(
        ResultItem.kind == "profile",
        ResultItem.key.in_(FIELDS),
        ResultItem.assessment_id.in_(sa.select(Assessment.id).where(*mine)),
    )
    for assessment_id, field, value in db.session.execute(profile):
        values[assessment_id][field] = value
    history = defaultdict(list)
    results = sa.select(
        member,
        Assessment.id,
        Assessment.submitted_at,
        Assessment.campaign_id,
        Assessment.superseded,
    ).where(*mine)
    for key, assessment_id, submitted_at, campaign, superseded in db.session.execute(
        results.order_by(Assessment.submitted_at, Assessment.id)
    ):
        row = tuple(values[assessment_id].get(field, NOT_STATED) for field in FIELDS)
        history[key].append(_Result(assessment_id, submitted_at, campaign, superseded, row))
    return history


def _counted_now(history: dict, campaign_id: int) -> dict:
    """Member key -> its result that counts in the campaign now (aggregates.counted)."""
    return {
        key: result
        for key, results in history.items()
        for result in results
        if result.campaign_id == campaign_id and not result.superseded
    }


def _earlier(release: Release, history: dict, campaign_id: int) -> Earlier:
    """An earlier breakdown, and the members it counted: for each member, its newest
    result by then (unless a result that replaced it has since been deleted: then
    nobody knows until when it counted)."""
    members = {}
    for key, results in history.items():
        before = [r for r in results if r.submitted_at <= release.created_at]
        if not before or before[-1].campaign_id != campaign_id:
            continue
        newest = before[-1]
        if not (newest.superseded and newest is results[-1]):
            members[key] = (newest.id, newest.values)
    fields = release.figures["groups"]["fields"]
    plan = [{v: row["group"] for row in fields.get(f, []) for v in row["values"]} for f in FIELDS]
    return Earlier(plan, members)


def _complete_figures(scope, members: int) -> set:
    """The figures every counted member has ("" for the overall score, area ids): a
    breakdown shows only those, so that no group's figure stands on fewer members."""
    counts = sa.select(ResultItem.key, sa.func.count(ResultItem.value)).where(
        ResultItem.kind.in_(("overall", "dimension")),
        ResultItem.assessment_id.in_(aggregates.counted_ids(scope)),
    )
    return {key for key, n in db.session.execute(counts.group_by(ResultItem.key)) if n == members}


def _grouped(field: str, groups: dict, scope):
    """The counted results as a subquery of (assessment_id, grp): each result in its
    group of `field`. Membership is read through uncorrelated IN subqueries, which the
    database runs once each (a join on the profile rows made SQLite scan them all for
    every result)."""
    answered = sa.select(ResultItem.assessment_id).where(
        ResultItem.kind == "profile", ResultItem.key == field
    )

    def member_of(values: list) -> sa.ColumnElement:
        stated = [v for v in values if v != NOT_STATED]
        parts = [Assessment.id.in_(answered.where(ResultItem.status.in_(stated)))] if stated else []
        if NOT_STATED in values:
            parts.append(Assessment.id.not_in(answered))
        return sa.or_(*parts)

    named = sorted({group for group in groups.values() if group != OTHER})
    whens = [(member_of([v for v, g in groups.items() if g == group]), group) for group in named]
    group = sa.case(*whens, else_=OTHER) if whens else sa.literal(OTHER)
    return (
        sa.select(Assessment.id.label("assessment_id"), group.label("grp"))
        .where(*aggregates.counted(scope))
        .subquery()
    )


def _figures(field: str, groups: dict, counts: Counter, scope, complete: set) -> list[dict]:
    """Each group's members, overall and area figures ([average, median]) and members
    by level: one GROUP BY and one query for the medians."""
    rows = {}
    for group in set(groups.values()):
        values = sorted(value for value, g in groups.items() if g == group)
        rows[group] = {
            "group": group,
            "values": values,
            "small": [v for v in values if counts[v] < aggregates.MIN_GROUP_SIZE],
            "members": sum(counts[v] for v in values),
            "overall": None,
            "dimensions": {},
            "levels": {},
        }
    grouped = _grouped(field, groups, scope)
    middle = aggregates.medians(grouped)
    figures = (
        sa.select(
            grouped.c.grp,
            ResultItem.kind,
            ResultItem.key,
            sa.func.count(),
            sa.func.avg(ResultItem.value),
        )
        .select_from(grouped)
        .join(ResultItem, ResultItem.assessment_id == grouped.c.assessment_id)
        .where(ResultItem.kind.in_(("overall", "dimension", "level")))
        .group_by(grouped.c.grp, ResultItem.kind, ResultItem.key)
    )
    for group, kind, key, count, mean in db.session.execute(figures):
        row = rows[group]
        if kind == "level":
            row["levels"][key] = count
        elif key in complete:
            stats = [float(mean), middle.get((group, kind, key))]
            if kind == "overall":
                row["overall"] = stats
            else:
                row["dimensions"][key] = stats
    return sorted(
        rows.values(), key=lambda row: (row["group"] == OTHER, -row["members"], row["group"])
    )
