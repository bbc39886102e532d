"""A small streaming XLSX writer: exactly what the campaign export needs, at a few
microseconds a row (openpyxl's write-only mode costs ~60 us a row, 6 s for 100,000
members).

What a workbook holds (ECMA-376, the parts Excel and LibreOffice need):
[Content_Types].xml, _rels/.rels, xl/workbook.xml and its rels, xl/styles.xml and
one xl/worksheets/sheetN.xml per sheet. Each sheet has its first row in bold and
frozen (the pane at A2) and its columns as wide as their text, within COLUMN_WIDTH.

Cells are str, int, float, datetime.date or None (an empty cell):
- text is an inline string (never a formula: a formula needs an <f> element) of at
  most TEXT_LIMIT characters, XML-escaped; the characters XML 1.0 forbids (most
  control characters, lone surrogates, U+FFFE, U+FFFF) are dropped, and a carriage
  return is written as &#13; so that XML parsers keep it rather than turn it into a
  line feed, and a text that holds one of Excel's escapes (_x0041_) keeps it as text;
- numbers are numbers;
- a date is its serial day number with the style yyyy-mm-dd (dates from 1900-03-01
  on: Excel's day numbers count the 29 February 1900 that never was).

Memory stays flat: rows are written a chunk at a time to a temporary file (the
sheet's data), their widths measured on the way; then the sheet's part is written
into the zip archive, its <cols> first, then that data copied in. The rows are thus
read once (the members' rows come from the database a batch at a time).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date
from xml.sax.saxutils import quoteattr

COLUMN_WIDTH = (8, 60)  # characters: the narrowest and widest column of a sheet
ROWS_PER_CHUNK = 500  # rows joined into one string before a write
COMPRESS_LEVEL = 5  # deflate: as small as level 6 (within 1 %) for ~30 % less time
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Characters XML 1.0 does not allow in a document, surrogates included (Python strings
# may hold lone ones; they cannot be encoded).
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel reads "_x0041_" in a text as the character it codes ("A"): a text holding such a
# sequence gets its underscore written as "_x005F_" (ECMA-376 Part 1, 22.9.2.19 ST_Xstring).
EXCEL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
XML_SPACE = " \t\n\r"  # a text starting or ending with one is marked to be kept whole
TEXT_LIMIT = 32_767  # characters Excel holds in a cell; a longer text is cut (as openpyxl does)
EXCEL_EPOCH = date(1899, 12, 30).toordinal()  # day 0 of Excel's 1900 date system

# Cell styles (indexes into cellXfs of STYLES): plain, bold, a date, a bold date.
BOLD = 1
DATE = 2

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

STYLES = (
    XML_DECLARATION + f'<styleSheet xmlns="{MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2">'
    '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"'
    ' applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

ROOT_RELS = (
    XML_DECLARATION + f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">'
    f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)

SHEET_START = (
    XML_DECLARATION + f'<worksheet xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    "</sheetView></sheetViews>"
    '<sheetFormatPr defaultRowHeight="15"/>'
)
SHEET_END = "</sheetData></worksheet>"


def write_workbook(output, sheets: Iterable[tuple[str, Iterable[list]]]) -> None:
    """Write the workbook of `sheets` (name, rows) into the binary file `output`."""
    names = []
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as book:
        for number, (name, rows) in enumerate(sheets, start=1):
            names.append(sheet_name(name))
            with tempfile.TemporaryFile() as data:
                widths = _write_rows(rows, data)
                data.seek(0)
                with book.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                    part.write((SHEET_START + _columns(widths) + "<sheetData>").encode())
                    shutil.copyfileobj(data, part, 1024 * 1024)
                    part.write(SHEET_END.encode())
        book.writestr("[Content_Types].xml", _content_types(len(names)))
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", _workbook(names))
        book.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(names)))
        book.writestr("xl/styles.xml", STYLES)


def sheet_name(name: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    return SHEET_NAME_FORBIDDEN.sub(" ", XML_FORBIDDEN.sub("", name))[:31]


def _write_rows(rows: Iterable[list], data) -> list[int]:
    """Write the <row> elements of `rows` into the binary file `data`, the first row
    in bold; return the width of each column: its longest text plus 2, within
    COLUMN_WIDTH. A title row (one cell only) spills over the next columns and is
    not measured."""
    widths: list[int] = []
    letters: list[str] = []
    pieces: list[str] = []
    for number, row in enumerate(rows, start=1):
        if len(row) > len(letters):
            letters += [_column_letter(index) for index in range(len(letters), len(row))]
        measured = len(row) > 1
        if measured and len(row) > len(widths):
            widths += [0] * (len(row) - len(widths))
        bold = BOLD if number == 1 else 0
        text_style = f' s="{BOLD}"' if bold else ""
        date_style = f' s="{DATE + bold}"'
        pieces.append(f'<row r="{number}">')
        for column, value in enumerate(row):
            kind = type(value)
            reference = f"{letters[column]}{number}"
            if kind is str:
                cell = _text_cell(reference, text_style, value)
                if not cell:
                    continue
                shown = len(value)
                pieces.append(cell)
            elif kind is int or kind is float:
                value = repr(value)
                shown = len(value)
                pieces.append(f'<c r="{reference}"{text_style}><v>{value}</v></c>')
            elif kind is date:
                shown = 10  # yyyy-mm-dd
                pieces.append(
                    f'<c r="{reference}"{date_style}><v>{value.toordinal() - EXCEL_EPOCH}</v></c>'
                )
            elif value is None:
                continue
            else:
                raise TypeError(f"an XLSX cell cannot hold {kind.__name__}: {value!r}")
            if measured and shown + 2 > widths[column]:
                widths[column] = shown + 2
        pieces.append("</row>")
        if number % ROWS_PER_CHUNK == 0:
            data.write("".join(pieces).encode())
            pieces.clear()
    data.write("".join(pieces).encode())
    return [min(max(width, COLUMN_WIDTH[0]), COLUMN_WIDTH[1]) for width in widths]


def _text_cell(reference: str, style: str, text: str) -> str:
    """An inline-string cell of at most TEXT_LIMIT characters; "" for a text that XML
    cannot hold (empty, or only characters XML forbids)."""
    if not text:
        return ""
    text = text[:TEXT_LIMIT]
    # Excel trims a text's outer white space unless told to keep it.
    keep = text[0] in XML_SPACE or text[-1] in XML_SPACE
    space = ' xml:space="preserve"' if keep else ""
    if "&" in text or "<" in text or ">" in text or "_x" in text or not text.isprintable():
        text = _escaped(text)
        if not text:
            return ""
    return f'<c r="{reference}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _escaped(text: str) -> str:
    """Text as XML element content: &, < and > escaped, the characters XML 1.0 forbids
    dropped, a carriage return as a reference (a parser reads a raw one as a line feed),
    and Excel's own escapes escaped (EXCEL_ESCAPE)."""
    text = EXCEL_ESCAPE.sub("_x005F_", XML_FORBIDDEN.sub("", text))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;")


def _column_letter(index: int) -> str:
    """A, B, ... Z, AA, AB, ... for the column at `index` (from 0)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _columns(widths: list[int]) -> str:
    if not widths:
        return ""
    columns = "".join(
        f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>'
        for index, width in enumerate(widths, start=1)
    )
    return f"<cols>{columns}</cols>"


def _content_types(sheet_count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{number}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for number in range(1, sheet_count + 1)
    )
    return (
        XML_DECLARATION
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheets}</Types>"
    )


def _workbook(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{number}" r:id="rId{number}"/>'
        for number, name in enumerate(names, start=1)
    )
    return (
        XML_DECLARATION + f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">'
        f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(sheet_count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{number}" Type="{RELATIONSHIPS}/worksheet"'
        f' Target="worksheets/sheet{number}.xml"/>'
        for number in range(1, sheet_count + 1)
    )
    styles = (
        f'<Relationship Id="rId{sheet_count + 1}" Type="{RELATIONSHIPS}/styles"'
        ' Target="styles.xml"/>'
    )
    return (
        XML_DECLARATION
        + f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS}">{sheets}{styles}</Relationships>'
    )
