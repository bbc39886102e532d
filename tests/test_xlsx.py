"""The streaming XLSX writer (app/reporting/xlsx.py): a valid package that openpyxl
reads back with the same values, the first row bold and frozen, dates as dates,
columns as wide as their text; any text round-trips but for what XML cannot hold."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from datetime import datetime
from xml.etree import ElementTree

import openpyxl
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from app.reporting import xlsx

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def written(sheets) -> bytes:
    output = io.BytesIO()
    xlsx.write_workbook(output, sheets)
    return output.getvalue()


def read_back(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def as_excel_shows(value):
    """A cell's text as Excel shows it: openpyxl leaves Excel's _xHHHH_ escapes as they are."""
    return unescape(value) if isinstance(value, str) else value


def once(rows):
    """The rows as a one-pass iterator, as the members' rows come from the database."""
    return iter(rows)


MEMBERS = [
    ["Organisation", "Submitted", "Overall", "Level", "Area"],
    ["Ferretería Ñandú & Hijos <Ltda>", date(2026, 3, 9), 87, "Referente", 90.5],
    ["=HYPERLINK(1)", date(1900, 3, 1), 0, "", None],
    ["x" * 100, date(2099, 12, 31), -3, "Preparada", 12],
]
FIGURES = [
    ["Figures of 3 members, released on 9 March 2026: a title wider than any column"],
    ["Area", "Average"],
    [],
    ["Overall", 40],
]


def test_openpyxl_reads_back_the_same_values_types_and_layout():
    book = read_back(written([("Members", once(MEMBERS)), ("Figures", once(FIGURES))]))
    assert book.sheetnames == ["Members", "Figures"]
    members, figures = book.worksheets
    expected = [
        [datetime.combine(v, datetime.min.time()) if isinstance(v, date) else v for v in row]
        for row in MEMBERS
    ]
    expected = [[None if v == "" else v for v in row] for row in expected]
    assert [list(row) for row in members.iter_rows(values_only=True)] == expected
    assert [c.value for c in figures["A"]] == [FIGURES[0][0], "Area", None, "Overall"]
    assert figures["B4"].value == 40 and figures["B4"].data_type == "n"
    # A text that looks like a formula is text: the writer writes no formula.
    assert members["A3"].data_type == "s" and members["A3"].value == "=HYPERLINK(1)"
    assert [members[f"{c}2"].data_type for c in "ABCDE"] == ["s", "d", "n", "s", "n"]
    for sheet in (members, figures):
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1] if cell.value is not None)
        assert not any(cell.font.b for row in sheet.iter_rows(min_row=2) for cell in row)
    for cell in members["B"][1:]:
        assert cell.is_date and cell.number_format == "yyyy-mm-dd"


def test_columns_are_as_wide_as_their_text_within_the_limits():
    members, figures = read_back(
        written([("Members", once(MEMBERS)), ("Figures", once(FIGURES))])
    ).worksheets
    widths = {letter: members.column_dimensions[letter].width for letter in "ABCDE"}
    # The longest text plus 2, at most 60 and at least 8; a date is 10 characters.
    assert widths == {"A": 60, "B": 12, "C": 9, "D": 11, "E": 8}
    # The title row (a single cell) spills over and is not measured.
    assert figures.column_dimensions["A"].width == 9
    assert figures.column_dimensions["B"].width == 9


def test_sheet_names_follow_excels_rules():
    names = ["Área: 1/2 [a]*?\\", "N" * 40, 'Tom & "Jerry" <1>']
    book = read_back(written([(name, [["x"]]) for name in names]))
    assert book.sheetnames == ["Área  1 2  a    ", "N" * 31, 'Tom & "Jerry" <1>']


def test_the_package_holds_every_part_excel_needs_and_each_is_well_formed_xml():
    data = written([("Members", once(MEMBERS)), ("Figures", once(FIGURES))])
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        names = set(package.namelist())
        assert names == {
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
        }
        parts = {name: ElementTree.fromstring(package.read(name)) for name in names}
    types = parts["[Content_Types].xml"]
    overrides = {e.get("PartName") for e in types if e.tag.endswith("Override")}
    assert overrides == {"/" + name for name in names if not name.endswith(".rels")} - {
        "/[Content_Types].xml"
    }
    sheet = parts["xl/worksheets/sheet1.xml"]
    # CT_Worksheet's order: sheetViews, sheetFormatPr, cols, then sheetData.
    assert [child.tag.removeprefix(MAIN) for child in sheet] == [
        "sheetViews",
        "sheetFormatPr",
        "cols",
        "sheetData",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a\rb\r\nc\td\ne",
        "  spaces kept  ",
        "\x00\x01\x08\x0b\x0c\x1f\ufffe\uffff\ud800 dropped",
        "]]> &amp; <t>not markup</t> \"quoted\" 'single'",
        "Krèyòl ayisyen · 中文 · العربية · 🇨🇱",
        "_x0041_ and _x005F_x0042_ are not Excel's escapes here; _x\x00041_ neither",
    ],
)
def test_awkward_text_round_trips(text):
    expected = xlsx.XML_FORBIDDEN.sub("", text)
    book = read_back(written([("S", [["Header", "x"], [text, text]])]))
    assert [as_excel_shows(c.value) for c in book.active[2]] == [expected, expected]


def test_a_text_with_outer_white_space_is_marked_to_be_kept_whole():
    """openpyxl keeps such white space anyway; Excel trims it unless told not to."""
    data = written([("S", [["Header", "x"], [" lead", "trail\n", "in side"]])])
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        sheet = ElementTree.fromstring(package.read("xl/worksheets/sheet1.xml"))
    kept = {
        t.text: t.get("{http://www.w3.org/XML/1998/namespace}space") for t in sheet.iter(f"{MAIN}t")
    }
    assert kept == {
        "Header": None,
        "x": None,
        " lead": "preserve",
        "trail\n": "preserve",
        "in side": None,
    }


def test_a_text_longer_than_excel_holds_is_cut_to_its_limit():
    text = "ñ" * (xlsx.TEXT_LIMIT + 10)
    sheet = read_back(written([("S", [["Header", "x"], [text, 1]])])).active
    assert sheet["A2"].value == text[: xlsx.TEXT_LIMIT]
    assert sheet.column_dimensions["A"].width == xlsx.COLUMN_WIDTH[1]


SPECIAL = st.sampled_from(list("&<>\"'\r\n\t \x00\x01\x0b\x1f\x7f\x85\u2028\ufffe\uffff\ud800"))


# Excel's escapes (_xHHHH_, in either case) and pieces of them, among any text.
EXCEL_ESCAPES = st.sampled_from(["_x0041_", "_x005F_", "_X00e9_", "_x", "_x12", "_"])
TEXTS = st.lists(
    st.one_of(
        st.text(st.one_of(st.characters(), st.characters(categories=["Cs"]), SPECIAL)),
        EXCEL_ESCAPES,
    ),
    max_size=6,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_any_text_round_trips_through_openpyxl_but_what_xml_forbids(text):
    book = read_back(written([("S", once([["Header", "x"], [text, 1], [1, text]]))]))
    expected = xlsx.XML_FORBIDDEN.sub("", text) or None
    sheet = book.active
    assert as_excel_shows(sheet["A2"].value) == expected
    assert as_excel_shows(sheet["B3"].value) == expected
    if expected is not None:
        assert sheet["A2"].data_type == "s"
