"""Submissions as KoboToolbox and ODK Central export them, written from the XLSForm
workbook `questionnaire xlsform` made (read as those tools read it), for import tests.

Each submission holds what a person entered on the phone: the answers the journey
shows them, each in the form (first or reworded) it was asked in; a field that is not
relevant is left empty, as ODK clears it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from dataclasses import field

from openpyxl import load_workbook

from app.engine.journey import Journey
from app.engine.model import REWORDED


@dataclass
class Filled:
    instance_id: str
    profile: dict
    answers: dict
    member_name: str = ""
    sharing: str = ""
    raw: dict = field(default_factory=dict)  # survey name -> cell text, as typed (for bad rows)


class XLSForm:
    """The survey and choices sheets of a workbook, as the tools read them."""

    def __init__(self, workbook: bytes):
        book = load_workbook(io.BytesIO(workbook), read_only=True)
        self.survey = _rows(book["survey"])
        self.choices = _rows(book["choices"])
        self.settings = _rows(book["settings"])[0]
        self.languages = [c.split("::", 1)[1] for c in self.survey[0] if c.startswith("label::")]

    def fields(self):
        """(group path, row) of every question row."""
        groups = []
        for row in self.survey:
            if row["type"] == "begin_group":
                groups.append(row)
            elif row["type"] == "end_group":
                groups.pop()
            else:
                yield list(groups), row

    def option_label(self, list_name, value, language):
        for row in self.choices:
            if row["list_name"] == list_name and row["name"] == value:
                return row[f"label::{language}"]
        raise KeyError(value)


def _rows(sheet):
    rows = list(sheet.iter_rows(values_only=True))
    return [
        {k: ("" if v is None else str(v)) for k, v in zip(rows[0], r, strict=False)}
        for r in rows[1:]
    ]


def cells(
    form: XLSForm,
    questionnaire,
    filled: Filled,
    *,
    labels=None,
    separator="/",
    details=True,
    hierarchy=False,
) -> dict:
    """One submission as a row: header -> text. `labels`: a language column name
    ("Kreyòl ayisyen (ht)") for headers and choices as labels; `separator` between a
    group and a field ("/" Kobo, "-" ODK Central)."""
    journey = Journey(questionnaire, filled.profile, filled.answers)
    row = {}
    for groups, item in form.fields():
        name, kind = item["name"], item["type"].split()
        header = _header(groups, item, labels, separator, hierarchy)
        value = _value(questionnaire, journey, filled, name)
        if name in filled.raw:
            row[header] = filled.raw[name]
            continue
        if kind[0] == "select_multiple":
            chosen = [] if value is None else ([value] if isinstance(value, str) else sorted(value))
            shown = [form.option_label(kind[1], v, labels) if labels else v for v in chosen]
            row[header] = " ".join(shown)
            if details:
                for choice in [c for c in form.choices if c["list_name"] == kind[1]]:
                    part = choice[f"label::{labels}"] if labels else choice["name"]
                    row[f"{header}/{part}"] = (
                        "" if value is None else str(int(choice["name"] in chosen))
                    )
        elif kind[0] == "select_one" and value is not None:
            row[header] = form.option_label(kind[1], value, labels) if labels else value
        else:
            row[header] = "" if value is None else str(value)
    row["meta" + separator + "instanceID"] = f"uuid:{filled.instance_id}"
    row["_uuid"] = filled.instance_id
    row["_submission_time"] = "2026-11-30T10:00:00"
    return row


def _header(groups, item, labels, separator, hierarchy):
    if labels is None:
        return separator.join([g["name"] for g in groups] + [item["name"]])
    parts = [g[f"label::{labels}"] for g in groups] if hierarchy else []
    return "/".join(parts + [item[f"label::{labels}"]])


def _value(questionnaire, journey, filled, name):
    if name == "member_name":
        return filled.member_name or None
    if name == "sharing":
        return filled.sharing or None
    question_id, _, wording = name.partition("__")
    question = questionnaire.fields[question_id]
    if not journey.visible(question):
        return None
    asked = journey.asked.get(question_id, question)
    if (asked.wording == REWORDED) != (wording == REWORDED):
        return None  # the other form of the question: not relevant
    return journey.value(question)


def csv_export(rows: list[dict], delimiter=";") -> bytes:
    headers = list(dict.fromkeys(h for row in rows for h in row))
    output = io.StringIO()
    writer = csv.writer(output, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return output.getvalue().encode("utf-8")


def json_export(rows: list[dict], nested=False, envelope=None) -> bytes:
    """Kobo's flat objects (`gestion/g_plan`), or ODK Central's nested ones."""
    items = []
    for row in rows:
        if not nested:
            items.append({k: v for k, v in row.items() if v != ""})
            continue
        item = {}
        for key, value in row.items():
            if value == "":
                continue
            *groups, last = key.split("/")
            target = item
            for group in groups:
                target = target.setdefault(group, {})
            target[last] = int(value) if value.isdigit() else value
        items.append(item)
    data = {envelope: items} if envelope else items
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
