"""A campaign's results as CSV: the members who chose to be named, one row each, then
the figures of the release in force. A "totals only" member appears in no row, in
no order and with no date (docs/SECURITY.md T7)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import sqlalchemy as sa
from flask_babel import gettext as _

from ..extensions import db
from ..i18n import format_day
from ..models import Assessment
from ..models import ResultItem
from . import aggregates

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def neutralise(value) -> str:
    """A cell a spreadsheet could run as a formula starts with a quote (docs/SECURITY.md T14)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _named(campaign_id: int):
    """The counted results of members who chose to be named, by name."""
    return (
        sa.select(
            Assessment.id,
            Assessment.member_name,
            Assessment.overall,
            Assessment.level,
            Assessment.submitted_at,
        )
        .where(*aggregates.counted(Assessment.campaign_id == campaign_id))
        .where(Assessment.share_named.is_(True))
        .order_by(Assessment.member_name, Assessment.id)
    )


def named_members(campaign_id: int, limit: int | None) -> list:
    """(name, overall, level, submitted_at) of the first members who chose to be named
    (None: all of them)."""
    rows = db.session.execute(_named(campaign_id).limit(limit)).all()
    return [row[1:] for row in rows]


def _dimension_scores(campaign_id: int) -> dict:
    named_ids = _named(campaign_id).with_only_columns(Assessment.id).scalar_subquery()
    scores = {}
    items = sa.select(ResultItem.assessment_id, ResultItem.key, ResultItem.value).where(
        ResultItem.kind == "dimension", ResultItem.assessment_id.in_(named_ids)
    )
    for assessment_id, key, value in db.session.execute(items):
        scores.setdefault(assessment_id, {})[key] = value
    return scores


def _release_rows(release, areas, content, level_titles) -> list[list]:
    """The release's figures as rows: where each figure stands, what it is."""
    summary = release.summary
    rows = [
        [],
        [
            _(
                "Figures of %(count)s members, released on %(date)s",
                count=release.members,
                date=format_day(release.created_at),
            )
        ],  # fmt: skip
        [_("Area"), _("Average"), _("Median")],
        [_("Overall"), round(summary.overall_mean or 0), round(summary.overall_median or 0)],
    ]
    for area in areas:
        stats = summary.dimensions.get(area.id)
        if stats:
            rows.append([content(area, "title"), round(stats[0]), round(stats[1])])
    rows += [[], [_("Level"), _("Members")]]
    rows += [
        [title, aggregates.format_count(summary.levels.get(level_id, 0))]
        for level_id, title in level_titles.items()
    ]
    return rows


def campaign_csv(campaign, questionnaire, content) -> Iterator[str]:
    """The CSV text, line by line. Everything is read before the first line, so a
    database failure is an error page, not a cut file."""
    areas = [d for d in questionnaire.dimensions if not d.legal]
    header = [_("Organisation"), _("Submitted"), _("Overall"), _("Level")]
    header += [content(d, "title") for d in areas]
    level_titles = {level.id: content(level, "title") for level in questionnaire.levels}
    scores = _dimension_scores(campaign.id)
    named = db.session.execute(_named(campaign.id)).all()
    release = aggregates.latest_release(campaign.id)
    unnamed_label = _("Member without a name")
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(cell) for cell in cells])
        return buffer.getvalue()

    def lines():
        yield "\ufeff" + line(header)  # BOM: spreadsheet programs then read UTF-8
        for assessment_id, name, overall, level, submitted_at in named:
            dimension_scores = scores.get(assessment_id, {})
            yield line(
                [name or unnamed_label, submitted_at.date().isoformat(), overall]
                + [level_titles.get(level, level)]
                + [dimension_scores.get(d.id, "") for d in areas]
            )
        if release is not None:
            for row in _release_rows(release, areas, content, level_titles):
                yield line(row)

    return lines()
