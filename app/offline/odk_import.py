"""Submissions made offline, read back from what KoboToolbox or ODK Central export.

- CSV with `;` or `,`, headers as XML names with their groups (`gestion/g_plan`,
  `gestion-g_plan`) or as labels in any of the form's languages; a `multiple` as one
  column of values or labels, or as one 1/0 column per option (`g_plan/idioma`).
- JSON: a list of submissions, Kobo's `{"results": [...]}` or ODK Central's
  `{"value": [...]}`, flat (`gestion/g_plan`) or nested (`{"gestion": {"g_plan": ...}}`).

Each submission is validated exactly as the web journey validates a post
(`app.assess.forms.validate_step`: the same fields, rules and messages), scored and
stored as the web's review page submits (`app.assess.store`). All or nothing: one
refused submission imports none. A submission is known by its `instanceID`: importing
it again adds nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..assess import store
from ..assess.forms import SharingForm
from ..assess.forms import validate_step
from ..engine import score
from ..engine.journey import Journey
from ..engine.model import Section
from ..engine.scoring import visible_profile
from ..extensions import db
from ..i18n import content_for
from ..i18n import content_languages
from ..i18n import in_language
from ..models import Assessment
from .xlsform import MEMBER_NAME
from .xlsform import REWORDED_SUFFIX
from .xlsform import SHARING
from .xlsform import FormSheets

MAX_SUBMISSION_ID = 128  # Assessment.submission_id
INSTANCE_ID_NAMES = ("instanceID", "KEY", "__id", "_uuid")  # in this order of preference
LABEL_NAMES = ("instanceName",)  # ODK's own name for a submission
CHECKED = {"1", "true", "True", "TRUE"}
SEPARATORS = "/-."  # between a group and a field: Kobo, ODK Central, some tools


class FileError(ValueError):
    """A file that cannot be read as submissions at all (a translated message)."""


@dataclass
class Submission:
    number: int  # the row of the CSV (the header is row 1) or the place in the JSON list
    cells: dict[str, str]


@dataclass
class Row:
    """What became of one submission."""

    number: int
    submission_id: str = ""
    label: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    duplicate: bool = False
    token: str = ""  # the private link's token, only for this import's output
    result: object = None
    values: tuple[dict, dict] = ({}, {})
    member: dict = field(default_factory=dict)


@dataclass
class Report:
    rows: list[Row]

    @property
    def imported(self) -> list[Row]:
        return [r for r in self.rows if r.token]

    @property
    def duplicates(self) -> list[Row]:
        return [r for r in self.rows if r.duplicate]

    @property
    def refused(self) -> list[Row]:
        return [r for r in self.rows if r.errors]


# --- Reading the file -----------------------------------------------------------


def read_submissions(data: bytes) -> list[Submission]:
    """The submissions of a CSV or JSON export; FileError if it is neither."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(_("The file is not UTF-8 text: export it again as CSV or JSON.")) from None
    if text.lstrip()[:1] in ("[", "{"):
        return _json_submissions(text)
    return _csv_submissions(text)


def _csv_submissions(text: str) -> list[Submission]:
    try:
        rows = max((_csv_rows(text, d) for d in (";", ",", "\t")), key=_consistent)
    except csv.Error:
        raise FileError(_("The file could not be read as CSV.")) from None
    if len(rows) < 2 or len(rows[0]) < 2:
        raise FileError(_("The file has no submissions: a header row and one row each."))
    headers = rows[0]
    return [
        Submission(number, dict(zip(headers, row, strict=False)))
        for number, row in enumerate(rows[1:], start=2)
        if any(cell.strip() for cell in row)
    ]


def _csv_rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _consistent(rows: list[list[str]]) -> tuple[bool, int]:
    """The delimiter that gives every row as many cells as the header, then the most
    columns: a label may hold a comma, and one not quoted under `;` splits only there."""
    return (all(len(row) == len(rows[0]) for row in rows if row), len(rows[0]) if rows else 0)


def _json_submissions(text: str) -> list[Submission]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise FileError(_("The file could not be read as JSON.")) from None
    if isinstance(data, dict):
        data = data.get("results", data.get("value"))
    if not isinstance(data, list) or not data or not all(isinstance(s, dict) for s in data):
        raise FileError(_("The file has no submissions: a list of objects, one each."))
    return [Submission(number, _flat(item)) for number, item in enumerate(data, start=1)]


def _flat(item: dict, prefix: str = "") -> dict[str, str]:
    """Nested groups as `group/field`; numbers and booleans as the CSV writes them."""
    cells = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            cells |= _flat(value, f"{name}/")
        elif isinstance(value, bool):
            cells[name] = "1" if value else "0"
        elif isinstance(value, float) and value.is_integer():
            cells[name] = str(int(value))
        elif isinstance(value, str | int | float):
            cells[name] = str(value)
    return cells


# --- Columns --------------------------------------------------------------------


class Columns:
    """Which question (or option of one) each column of a file holds, by the form's
    names and by its labels in every language."""

    def __init__(self, questionnaire, languages: list[str], headers):
        sheets = FormSheets(questionnaire, languages)
        self.questionnaire = questionnaire
        self.names: dict[str, str] = {}  # survey name -> question id (or front field)
        self.labels: dict[str, str] = {}  # label in any language -> survey name
        self.choices: dict[str, dict[str, str]] = {}  # survey name -> {value or label: value}
        self.multiple: set[str] = set()
        self.numbers: set[str] = set()
        for row in sheets.survey:
            name = row["name"]
            if row["type"] in ("begin_group", "end_group"):
                continue
            self.names[name] = name.removesuffix(REWORDED_SUFFIX)
            for key, text in row.items():
                if key.startswith("label::") and text:
                    self.labels.setdefault(text, name)
            if row["type"].startswith("select_multiple"):
                self.multiple.add(name)
            if row["type"] == "integer":
                self.numbers.add(name)
        for row in sheets.choices:
            choices = self.choices.setdefault(row["list_name"], {})
            choices[row["name"]] = row["name"]
            for key, text in row.items():
                if key.startswith("label::") and text:
                    choices.setdefault(text, row["name"])
        self.field_of: dict[str, str] = {}  # header -> survey name
        self.option_of: dict[str, tuple[str, str]] = {}  # header -> (survey name, value)
        self.meta: dict[str, str] = {}  # instanceID, ... -> header
        for header in headers:
            self._place(header)

    def _place(self, header: str) -> None:
        name = self._field(header)
        if name is not None:
            self.field_of[header] = name
            return
        for index in (i for i, ch in enumerate(header) if ch == "/"):
            name = self._field(header[:index])
            value = self.choices.get(name, {}).get(header[index + 1 :])
            if name in self.multiple and value is not None:
                self.option_of[header] = (name, value)
                return
        tail = re.split(f"[{re.escape(SEPARATORS)}]", header)[-1]
        if tail in INSTANCE_ID_NAMES + LABEL_NAMES and tail not in self.meta:
            self.meta[tail] = header

    def _field(self, text: str) -> str | None:
        """The survey name a header (or its part) names: itself, or its end after a
        group, as a name or as a label."""
        ends = [text] + [text[i + 1 :] for i, ch in enumerate(text) if ch in SEPARATORS]
        for end in ends:
            if end in self.names:
                return end
            if end in self.labels:
                return self.labels[end]
        return None

    @property
    def questions(self) -> set[str]:
        """The questions the file has a column for."""
        names = set(self.field_of.values()) | {name for name, _ in self.option_of.values()}
        return {self.names[n] for n in names} - {MEMBER_NAME, SHARING}

    def formdata(self, cells: dict[str, str]) -> MultiDict:
        """A submission as the web's forms receive a post: question id -> values."""
        posted: dict[str, list[str]] = {}
        for header, name in self.field_of.items():
            text = cells.get(header, "").strip()
            if not text or self.names[name] in posted:
                continue
            posted[self.names[name]] = self._values(name, text)
        ticked: dict[str, list[str]] = {}
        for header, (name, value) in self.option_of.items():
            if cells.get(header, "").strip() in CHECKED:
                ticked.setdefault(self.names[name], []).append(value)
        posted |= ticked  # the 1/0 columns say it without the labels' ambiguity
        return MultiDict([(key, value) for key, values in posted.items() for value in values])

    def _values(self, name: str, text: str) -> list[str]:
        if name in self.numbers:
            return [re.sub(r"^(-?\d+)\.0+$", r"\1", text)]  # 12.0 from a spreadsheet
        choices = self.choices.get(name)
        if choices is None:
            return [text]
        if name not in self.multiple:
            return [choices.get(text, text)]
        words = text.split()
        if all(word in choices for word in words):
            return [choices[word] for word in words]
        return _split_labels(text, choices) or words

    def submission_id(self, cells: dict[str, str]) -> str:
        for name in INSTANCE_ID_NAMES:
            if name in self.meta and cells.get(self.meta[name], "").strip():
                return cells[self.meta[name]].strip().removeprefix("uuid:")
        return ""

    def label(self, cells: dict[str, str], formdata: MultiDict) -> str:
        found = formdata.get(MEMBER_NAME, "").strip()
        if not found and "instanceName" in self.meta:
            found = cells.get(self.meta["instanceName"], "").strip()
        return found


def _split_labels(text: str, choices: dict[str, str]) -> list[str] | None:
    """Kobo writes a `multiple` exported with labels as the labels joined by spaces:
    find the options whose labels make up the text exactly."""
    if not text:
        return []
    for label, value in sorted(choices.items(), key=lambda item: -len(item[0])):
        if text == label or text.startswith(label + " "):
            rest = _split_labels(text[len(label) + 1 :], choices)
            if rest is not None:
                return [value, *rest]
    return None


# --- Validating, scoring, storing ---------------------------------------------------


class Validator:
    """Validates submissions as the web's steps are: the profile page, then every other
    question as one page (so the review page's checks see every answer at once). The
    forms are built once for each set of questions a profile shows, then reused."""

    def __init__(self, questionnaire, content):
        self.questionnaire = questionnaire
        self.content = content
        self.forms = {}
        self.every_page = Section("answers", "", questionnaire.questions)
        self.blank = Journey(questionnaire, {}, {})  # where every profile page starts

    def __call__(self, formdata: MultiDict) -> tuple[dict, dict, list]:
        """(profile, answers, errors); errors are (question id, message)."""
        q = self.questionnaire
        profile, errors = self._step(self.blank, q.sections[0], formdata)
        answers, more = self._step(Journey(q, profile, {}), self.every_page, formdata)
        return profile, answers, list(dict.fromkeys(errors + more))

    def _step(self, journey, step, formdata):
        key = (step.id, tuple((q.id, q.wording) for q in journey.candidates(step)))
        form, values = validate_step(
            self.questionnaire, journey, step, formdata, self.content,
            meta={"csrf": False}, form=self.forms.get(key),
        )  # fmt: skip
        self.forms[key] = form
        errors = [(name, str(m)) for name, messages in form.errors.items() for m in messages]
        return {k: v for k, v in values.items() if v is not None}, errors


def check_rows(questionnaire, content, lang, submissions, columns, campaign) -> Report:
    """Read and validate every submission, and find those imported before."""
    rows, seen = [], set()
    with in_language(lang):
        for submission in submissions:
            row = Row(submission.number)
            formdata = columns.formdata(submission.cells)
            row.submission_id = columns.submission_id(submission.cells)
            row.label = columns.label(submission.cells, formdata)[:200]
            if not row.submission_id:
                row.errors.append(("instanceID", _("The submission has no instanceID.")))
            elif len(row.submission_id) > MAX_SUBMISSION_ID:
                row.errors.append(("instanceID", _("The instanceID is too long.")))
            elif row.submission_id in seen:
                row.duplicate = True  # twice in the file: the first counts
            seen.add(row.submission_id)
            rows.append((row, formdata))
        _mark_imported_before([row for row, _ in rows])
        validate = Validator(questionnaire, content)
        for row, formdata in rows:
            if row.duplicate:
                continue  # imported before: nothing of it is read again
            profile, answers, errors = validate(formdata)
            row.errors += errors
            row.values = (profile, answers)
            if campaign is not None:
                row.member = _member(formdata, row)
    return Report([row for row, _ in rows])


def _member(formdata: MultiDict, row: Row) -> dict:
    """A campaign member's name and sharing choice, validated by the web's sharing form."""
    posted = MultiDict(
        {MEMBER_NAME: formdata.get(MEMBER_NAME, ""), SHARING: formdata.get(SHARING, "aggregate")}
    )
    form = SharingForm(formdata=posted, meta={"csrf": False})
    if not form.validate():
        row.errors += [(name, str(m)) for name, messages in form.errors.items() for m in messages]
    return {
        "member_name": (form.member_name.data or "").strip() or None,
        "share_named": form.sharing.data == "named",
    }


def _mark_imported_before(rows: list[Row]) -> None:
    ids = [r.submission_id for r in rows if r.submission_id and not r.duplicate]
    known = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        known |= set(
            db.session.scalars(
                sa.select(Assessment.submission_id).where(Assessment.submission_id.in_(chunk))
            )
        )
    for row in rows:
        if row.submission_id in known:
            row.duplicate = True


def import_file(questionnaire, data: bytes, lang: str, campaign=None) -> Report:
    """Import an export file in the session's transaction; the caller commits, or rolls
    back when the report has refused rows. FileError when it is not an export."""
    submissions = read_submissions(data)
    languages = content_languages(questionnaire)
    columns = Columns(questionnaire, languages, submissions[0].cells.keys())
    if not columns.questions:
        raise FileError(
            _("No column of the file is a question of this questionnaire: choose the right one.")
        )
    content = content_for(questionnaire, lang)
    report = check_rows(questionnaire, content, lang, submissions, columns, campaign)
    if report.refused:
        return report
    store_rows(questionnaire, lang, [r for r in report.rows if not r.duplicate], campaign)
    return report


def store_rows(questionnaire, lang: str, rows: list[Row], campaign) -> None:
    """Each submission as an assessment submitted on the web: its answers, its result
    and its figures, all stored at once; the releases are renewed once, after."""
    campaign_id = campaign.id if campaign is not None else None
    submissions = []
    for row in rows:
        profile, answers = row.values
        row.result = score(questionnaire, profile, answers)
        shown, _known = visible_profile(questionnaire, profile)
        columns = {"campaign_id": campaign_id, "submission_id": row.submission_id} | row.member
        shown_values = {k: profile[k] for k in shown if k in profile}
        submissions.append((columns, profile | answers, row.result, shown_values))
    tokens = store.add_submitted(questionnaire, lang, submissions)
    for row, token in zip(rows, tokens, strict=True):
        row.token = token
    store.refresh_releases(campaign_id)
