"""A campaign's results as CSV or XLSX: the members who chose to be named, one row each,
then the figures of the release in force, its breakdowns and the comparison with the
association's earlier campaigns. A "totals only" member appears in no row, in no order
and with no date (docs/SECURITY.md T7).

`campaign_sheets` is the one place that decides which rows exist; the CSV and XLSX
writers only write them (the CSV one sheet after another, a blank row between). The
members' rows are read from the database a batch at a time while the file is written,
so that a campaign of 100,000 members takes no more memory than one of 100.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from ..extensions import db
from ..i18n import format_day
from ..models import Assessment
from ..models import ResultItem
from . import aggregates
from . import breakdowns
from .comparison import compared_campaigns
from .xlsx import write_workbook

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
MEMBER_BATCH = 1000  # members' rows fetched at a time: the export's memory stays flat
CSV_CHUNK = 64 * 1024  # characters sent at a time: one write per row would be slow


def neutralise(value) -> str:
    """A cell a spreadsheet could run as a formula starts with a quote (docs/SECURITY.md T14)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


@dataclass
class Sheet:
    """One table of the export: a translated name and its rows (the first is its title
    or header row). Cells are text, whole numbers or dates."""

    name: str
    rows: Iterable[list]


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


def _area_score(area_id: str):
    """A member's score in an area, read through the index of its result's items (NULL
    where the result has none: an area with no score is stored as no row)."""
    return (
        sa.select(ResultItem.value)
        .where(
            ResultItem.assessment_id == Assessment.id,
            ResultItem.kind == "dimension",
            ResultItem.key == area_id,
        )
        .scalar_subquery()
    )


def _whole(value: float | None) -> int | str:
    return "" if value is None else round(value)


class MemberRows:
    """The members' sheet: its header, then one row per named member in name order,
    read from the database MEMBER_BATCH rows at a time, anew each time it is read."""

    def __init__(self, campaign_id: int, areas, level_titles):
        self.campaign_id = campaign_id
        self.areas = areas
        self.level_titles = level_titles

    def __iter__(self) -> Iterator[list]:
        header = [_("Organisation"), _("Submitted"), _("Overall"), _("Level")]
        yield header + [title for _id, title in self.areas]
        unnamed_label = _("Member without a name")
        query = _named(self.campaign_id).add_columns(
            *(_area_score(area_id) for area_id, _title in self.areas)
        )
        rows = db.session.execute(query, execution_options={"yield_per": MEMBER_BATCH})
        for _id, name, overall, level, submitted_at, *scores in rows:
            yield [
                name or unnamed_label,
                submitted_at.date(),
                overall,
                self.level_titles.get(level, level),
                *("" if score is None else score for score in scores),
            ]


def _release_rows(release, areas, level_titles) -> list[list]:
    """The release's figures as rows: where each figure stands, what it is."""
    summary = release.summary
    rows = [
        [
            _(
                "Figures of %(count)s members, released on %(date)s",
                count=release.members,
                date=format_day(release.created_at),
            )
        ],
        [_("Area"), _("Average"), _("Median")],
        [_("Overall"), _whole(summary.overall_mean), _whole(summary.overall_median)],
    ]
    for area_id, title in areas:
        stats = summary.dimensions.get(area_id)
        if stats:
            rows.append([title, _whole(stats[0]), _whole(stats[1])])
    rows += [[], [_("Level"), _("Members")]]
    rows += [
        [title, aggregates.shown_count(summary.levels.get(level_id, 0))]
        for level_id, title in level_titles.items()
    ]
    return rows


def _breakdown_rows(breakdown, questionnaire, content, areas, level_titles) -> list[list]:
    """Each breakdown's groups: members, overall and area figures, members by level."""
    rows = [
        [
            _(
                "Breakdowns of %(count)s members, released on %(date)s",
                count=breakdown.members,
                date=format_day(breakdown.released),
            )
        ]
    ]
    header = [_("Group"), _("Members"), _("Overall: average"), _("Overall: median")]
    for _id, title in areas:
        header += [
            _("%(area)s: average", area=title),
            _("%(area)s: median", area=title),
        ]
    header += list(level_titles.values())
    for field_id, groups in breakdowns.shown_fields(breakdown, questionnaire):
        rows += [[], [breakdowns.field_title(field_id)], header]
        for group in groups:
            overall = group["overall"] or [None, None]
            row = [breakdowns.group_label(questionnaire, content, field_id, group)]
            row += [group["members"], _whole(overall[0]), _whole(overall[1])]
            for area_id, _title in areas:
                stats = group["dimensions"].get(area_id) or [None, None]
                row += [_whole(stats[0]), _whole(stats[1])]
            row += [
                aggregates.shown_count(group["levels"].get(level_id, 0))
                for level_id in level_titles
            ]
            rows.append(row)
    return rows


def _comparison_rows(compared, areas) -> list[list]:
    """This campaign beside the association's earlier ones: averages and the change."""
    this, previous = compared[0], compared[1]
    rows = [
        [_("Area"), this.campaign.name, previous.campaign.name, _("Difference (points)")],
        [_("Overall"), *this.change_row(previous, None)],
    ]
    rows += [[title, *this.change_row(previous, area_id)] for area_id, title in areas]
    rows += [[], [_("Campaign"), _("Members"), _("Release date"), _("Overall: average")]]
    rows += [[c.campaign.name, c.members, c.released.date(), _whole(c.overall)] for c in compared]
    return rows


def campaign_sheets(campaign, questionnaire, content) -> list[Sheet]:
    """The sheets of the export. Every sheet but the members' is read here, before
    anything is written; the members' rows are read while the file is written (a
    database failure there cuts the download, which the browser reports as failed)."""
    areas = [(d.id, content(d, "title")) for d in questionnaire.dimensions if not d.legal]
    level_titles = {level.id: content(level, "title") for level in questionnaire.levels}
    sheets = [Sheet(_("Members"), MemberRows(campaign.id, areas, level_titles))]
    release = aggregates.latest_release(campaign.id)
    if release is None:
        return sheets
    sheets.append(Sheet(_("Figures"), _release_rows(release, areas, level_titles)))
    breakdown = breakdowns.in_force(release.summary)
    if breakdown is not None:
        rows = _breakdown_rows(breakdown, questionnaire, content, areas, level_titles)
        sheets.append(Sheet(_("Breakdowns"), rows))
    compared = compared_campaigns(campaign)
    if len(compared) > 1:
        sheets.append(Sheet(_("Comparison"), _comparison_rows(compared, areas)))
    return sheets


def campaign_csv(sheets: list[Sheet]) -> Iterator[str]:
    """The CSV text in pieces of about CSV_CHUNK characters: each sheet's rows, a blank
    row between sheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # BOM: spreadsheet programs then read UTF-8
    for index, sheet in enumerate(sheets):
        if index:
            writer.writerow([])
        for row in sheet.rows:
            writer.writerow([neutralise(cell) for cell in row])
            if buffer.tell() >= CSV_CHUNK:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def campaign_xlsx(sheets: list[Sheet]):
    """The XLSX workbook in a temporary file (rewound), written by our own streaming
    writer (app/reporting/xlsx.py): one worksheet per sheet, its first row in bold and
    frozen, numbers and dates as such, columns as wide as their text, text never a
    formula (as in the CSV). The rows are read once: the members' a batch at a time."""
    output = tempfile.TemporaryFile()
    write_workbook(output, ((sheet.name, _xlsx_rows(sheet.rows)) for sheet in sheets))
    output.seek(0)
    return output


def _xlsx_rows(rows: Iterable[list]) -> Iterator[list]:
    """The rows with their text as the CSV writes it: never a formula."""
    for row in rows:
        yield [neutralise(value) if isinstance(value, str) else value for value in row]
