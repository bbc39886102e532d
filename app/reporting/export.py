"""A campaign's results as CSV, streamed row by row in constant memory."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import sqlalchemy as sa
from flask_babel import gettext as _

from ..extensions import db
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


def _dimension_scores(campaign_filter) -> dict:
    scores = {}
    items = sa.select(ResultItem.assessment_id, ResultItem.key, ResultItem.value).where(
        ResultItem.kind == "dimension",
        ResultItem.assessment_id.in_(aggregates.submitted_ids(campaign_filter)),
    )
    for assessment_id, key, value in db.session.execute(items):
        scores.setdefault(assessment_id, {})[key] = value
    return scores


def _submitted(campaign_filter):
    conditions = [campaign_filter, Assessment.submitted_at.is_not(None)]
    if aggregates.completed_count(campaign_filter) < aggregates.MIN_GROUP_SIZE:
        # Below the threshold, anonymous rows could single a member out.
        conditions.append(Assessment.share_named.is_(True))
    return (
        sa.select(
            Assessment.id,
            Assessment.share_named,
            Assessment.member_name,
            Assessment.submitted_at,
            Assessment.overall,
            Assessment.level,
        )
        .where(*conditions)
        .order_by(Assessment.submitted_at)
        .execution_options(yield_per=1000)
    )


def campaign_csv(campaign, questionnaire, content) -> Iterator[str]:
    """The header, then one line per submitted member, as CSV text. The figures are
    read before the first line, so a database failure is a page, not a cut file."""
    areas = [d for d in questionnaire.dimensions if not d.legal]
    header = [_("Organisation"), _("Submitted"), _("Overall"), _("Level")]
    header += [content(d, "title") for d in areas]
    level_titles = {level.id: content(level, "title") for level in questionnaire.levels}
    campaign_filter = Assessment.campaign_id == campaign.id
    scores = _dimension_scores(campaign_filter)
    submitted = _submitted(campaign_filter)
    anonymous_label = _("Anonymous member %(number)s")  # formatted per row below
    unnamed_label = _("Member without a name")
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    def lines():
        yield "\ufeff" + line([neutralise(cell) for cell in header])  # BOM: read as UTF-8
        anonymous = 0
        for assessment_id, named, member_name, submitted_at, overall, level in db.session.execute(
            submitted
        ):
            if named:
                name, day = member_name or unnamed_label, submitted_at.date().isoformat()
            else:
                anonymous += 1
                name, day = anonymous_label % {"number": anonymous}, ""
            dimension_scores = scores.get(assessment_id, {})
            yield line(
                [neutralise(name), day, overall, neutralise(level_titles.get(level, level))]
                + [dimension_scores.get(d.id, "") for d in areas]
            )

    return lines()


def named_members(campaign_id: int, limit: int) -> list:
    """Members who chose to be named, by name: (name, overall, level, submitted_at)."""
    return db.session.execute(
        sa.select(
            Assessment.member_name,
            Assessment.overall,
            Assessment.level,
            Assessment.submitted_at,
        )
        .where(
            Assessment.campaign_id == campaign_id,
            Assessment.share_named.is_(True),
            Assessment.submitted_at.is_not(None),
        )
        .order_by(Assessment.member_name)
        .limit(limit)
    ).all()
