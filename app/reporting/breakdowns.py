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
rule 3 then weighs a handful of earlier breakdowns, not one per release. Each group's
figures are computed in SQL as the campaign's own are (`aggregates.summarize`).
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
    gives away a small set: the smallest group whose merging stops that, else the
    smallest group of a member in the set (another merge will follow)."""
    given_away = _Publication(plan, members, earlier).given_away()
    if given_away is None:
        return None
    shown = {(index, group) for index, groups in enumerate(plan) for group in groups.values()}
    for index, group in _by_size(plan, counts, shown):
        values = [value for value, g in plan[index].items() if g == group]
        trial = [dict(groups) for groups in plan]
        trial[index].update(dict.fromkeys(values, OTHER))
        if not _Publication(trial, members, earlier).gives_away(given_away):
            return index, values
    involved = {
        (index, plan[index][values[index]])
        for result_id, values in members.values()
        if result_id in given_away
        for index in range(len(FIELDS))
    }
    for index, group in _by_size(plan, counts, involved) + _by_size(plan, counts, shown):
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
    each group of each breakdown publishes the sum over its cells (a 0/1 row)."""

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
        rows = [
            [
                1 if cell[layer] is not None and cell[layer][index] == group else 0
                for cell in self.cells
            ]
            for layer, (p, _counted) in enumerate(layers)
            for index, groups in enumerate(p)
            for group in set(groups.values())
        ]
        self.keys = dict(zip(self.cells, _null_space_keys(rows, len(self.cells)), strict=True))

    def given_away(self) -> set | None:
        """The result ids of a set of one to four results whose sum is published, if any."""
        weights = [self.sizes[cell] for cell in self.cells]
        found = small_set_disclosed(weights, [self.keys[cell] for cell in self.cells])
        if found is None:
            return None
        cells = {self.cells[index] for index in found}
        return {result_id for result_id, cell in self.cell_of.items() if cell in cells}

    def gives_away(self, result_ids: set) -> bool:
        """Whether the sum over exactly these results is published."""
        cells = {self.cell_of[result_id] for result_id in result_ids}
        if sum(self.sizes[cell] for cell in cells) != len(result_ids):
            return False  # a cell also holds other results: no published sum splits it
        total = [sum(parts) % PRIME for parts in zip(*(self.keys[c] for c in cells), strict=True)]
        return not any(total)


def small_set_disclosed(weights: list[int], keys: list[tuple]) -> list[int] | None:
    """Cells (indices) holding one to four results in all whose sum is published, if
    there is such a set; `keys`: each cell's entries in random null-space vectors.

    A set's sum can be worked out exactly when its indicator lies in the span of the
    published rows, that is, when it is orthogonal to every vector of their null space.
    Two random null-space vectors (mod a large prime) stand for the whole space: a set
    that looks orthogonal by chance (about 1 in 2^122) only merges one group too many.
    Sets of up to four cells are searched through sums of pairs."""
    small = [c for c, w in enumerate(weights) if w < aggregates.MIN_GROUP_SIZE]
    zero = tuple(0 for _ in keys[0]) if keys else ()

    def plus(a, b):
        return tuple((x + y) % PRIME for x, y in zip(a, b, strict=True))

    def minus(a):
        return tuple(-x % PRIME for x in a)

    def light(cells) -> bool:
        return sum(weights[c] for c in cells) < aggregates.MIN_GROUP_SIZE

    pairs = defaultdict(list)
    for c in small:
        if keys[c] == zero:
            return [c]
    for a, b in combinations(small, 2):
        if light((a, b)):
            total = plus(keys[a], keys[b])
            if total == zero:
                return [a, b]
            pairs[total].append((a, b))
    for c in small:
        for a, b in pairs.get(minus(keys[c]), ()):
            if c not in (a, b) and light((a, b, c)):
                return [a, b, c]
    for total, found in pairs.items():
        for first in found:
            for second in pairs.get(minus(total), ()):
                if not set(first) & set(second) and light(first + second):
                    return [*first, *second]
    return None


def _null_space_keys(rows: list[list[int]], width: int, vectors: int = 2) -> list[tuple]:
    """For each column, its entries in `vectors` random vectors of the rows' null space."""
    matrix = [[x % PRIME for x in row] for row in rows]
    pivots = []
    for column in range(width):
        found = next((r for r in range(len(pivots), len(matrix)) if matrix[r][column]), None)
        if found is None:
            continue
        top = len(pivots)
        matrix[top], matrix[found] = matrix[found], matrix[top]
        inverse = pow(matrix[top][column], PRIME - 2, PRIME)
        matrix[top] = [x * inverse % PRIME for x in matrix[top]]
        for r, row in enumerate(matrix):
            if r != top and row[column]:
                factor = row[column]
                matrix[r] = [
                    (x - factor * y) % PRIME for x, y in zip(row, matrix[top], strict=True)
                ]
        pivots.append(column)
    pivotal = set(pivots)
    free = [c for c in range(width) if c not in pivotal]
    rng = random.Random(0)  # noqa: S311 (reproducible releases; not a secret)
    columns = []
    for _vector in range(vectors):
        vector = [0] * width
        for c in free:
            vector[c] = rng.randrange(1, PRIME)
        for r, column in enumerate(pivots):
            vector[column] = -sum(matrix[r][c] * vector[c] for c in free) % PRIME
        columns.append(vector)
    return [tuple(vector[c] for vector in columns) for c in range(width)]


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


def _in_group(field: str, values: list) -> sa.ColumnElement:
    answered = sa.select(ResultItem.assessment_id).where(
        ResultItem.kind == "profile", ResultItem.key == field
    )
    stated = [v for v in values if v != NOT_STATED]
    parts = [Assessment.id.in_(answered.where(ResultItem.status.in_(stated)))] if stated else []
    if NOT_STATED in values:
        parts.append(Assessment.id.not_in(answered))
    return sa.or_(*parts)


def _figures(field: str, groups: dict, counts: Counter, scope, complete: set) -> list[dict]:
    by_group = defaultdict(list)
    for value, group in groups.items():
        by_group[group].append(value)
    rows = []
    for group, values in by_group.items():
        members = sum(counts[v] for v in values)
        summary = aggregates.summarize(members, (scope, _in_group(field, values)))
        overall = [summary.overall_mean, summary.overall_median]
        rows.append(
            {
                "group": group,
                "values": sorted(values),
                "small": sorted(v for v in values if counts[v] < aggregates.MIN_GROUP_SIZE),
                "members": members,
                "overall": overall if "" in complete else None,
                "dimensions": {d: s for d, s in summary.dimensions.items() if d in complete},
                "levels": summary.levels,
            }
        )
    return sorted(rows, key=lambda row: (row["group"] == OTHER, -row["members"], row["group"]))
