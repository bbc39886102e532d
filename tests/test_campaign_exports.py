"""An association's campaign report: the XLSX beside the CSV (one set of rows, one set of
privacy rules), the comparison with its earlier campaigns, and the plain words around
them on the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from datetime import datetime

import openpyxl
import pytest

from app.reporting import export
from tests.support.accounts import add_members
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.accounts import new_campaign

SHEETS = {
    "es": ["Socias", "Cifras", "Desgloses", "Comparación"],
    "ht": ["Manm yo", "Chif yo", "Detay pa gwoup", "Konparezon"],
}
# Two of the fixture questionnaire's questions, one in each area: their best answers
# against their worst move both areas' scores.
HALF = {"g_responsable": "0", "e_gremio_orienta": "no"}


@pytest.fixture
def campaigns(app, client):
    """An earlier campaign of 5 members at 100 and the current one of 10 members, with
    named members, "totals only" members and a formula-like name."""
    create_association(app, "Cámara del Norte", "norte@example.cl")
    assert login(client, "norte@example.cl").status_code == 302
    earlier = new_campaign(client, name="Campaña 2025")
    add_members(app, earlier, 5)
    current = new_campaign(client, name="Campaña 2026")
    add_members(app, current, 3, named=True, name="Pública")
    add_members(app, current, 1, named=True, name="=HYPERLINK(1)")
    add_members(app, current, 6, answers="worst", name="Secreta")
    return earlier, current


def csv_rows(client, campaign_id, lang="es") -> list[list[str]]:
    body = client.get(f"/{lang}/associations/campaigns/{campaign_id}/export.csv")
    return list(csv.reader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))


def workbook(client, campaign_id, lang="es"):
    response = client.get(f"/{lang}/associations/campaigns/{campaign_id}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    response.close()
    return openpyxl.load_workbook(io.BytesIO(data))


def as_csv_cell(value) -> str:
    """How the CSV writes a cell: dates as ISO days, numbers as plain digits."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def sheet_rows(sheet) -> list[list[str]]:
    rows = []
    for row in sheet.iter_rows(values_only=True):
        cells = [as_csv_cell(value) for value in row]
        while cells and cells[-1] == "":
            cells.pop()
        rows.append(cells)
    return rows


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_the_xlsx_holds_exactly_the_rows_of_the_csv(app, client, campaigns, lang):
    _earlier, current = campaigns
    book = workbook(client, current, lang)
    assert book.sheetnames == SHEETS[lang]
    joined = []
    for index, sheet in enumerate(book.worksheets):
        joined += ([[]] if index else []) + sheet_rows(sheet)
    assert joined == csv_rows(client, current, lang)


def test_the_xlsx_is_a_spreadsheet_not_text(app, client, campaigns):
    _earlier, current = campaigns
    members = workbook(client, current)["Socias"]
    assert members.freeze_panes == "A2"  # the header row stays in view
    header = [cell.value for cell in members[1]]
    assert header[:4] == ["Organización", "Enviados", "Resultado general", "Nivel"]
    assert all(cell.font.b for cell in members[1])
    first = members[2]
    assert isinstance(first[1].value, datetime) and first[1].number_format == "yyyy-mm-dd"
    assert first[2].value == 100 and first[2].data_type == "n"  # a number, not text
    # A name that looks like a formula stays text, as in the CSV.
    names = [row[0].value for row in members.iter_rows(min_row=2)]
    assert "'=HYPERLINK(1) 0" in names
    assert all(row[0].data_type == "s" for row in members.iter_rows(min_row=2))
    # Each column as wide as its longest text (as the CSV writes it) plus 2, within 8..60.
    rows = csv_rows(client, current)
    rows = rows[: rows.index([])]
    expected = [
        min(max(max(len(row[column]) for row in rows) + 2, 8), 60) for column in range(len(rows[0]))
    ]
    letters = [cell.column_letter for cell in members[1]]
    assert [members.column_dimensions[letter].width for letter in letters] == expected


def test_the_files_are_streamed_while_the_members_are_read_in_batches(
    app, client, campaigns, monkeypatch
):
    """The CSV is sent while the members' rows are read a batch at a time (at 100,000
    members neither file is held whole): with batches of two members and a piece sent
    per row, it arrives row by row and both files hold the rows of one batch."""
    _earlier, current = campaigns
    url = f"/es/associations/campaigns/{current}/export"
    whole_csv = client.get(f"{url}.csv").get_data()
    whole_book = [sheet_rows(sheet) for sheet in workbook(client, current).worksheets]
    monkeypatch.setattr(export, "MEMBER_BATCH", 2)
    monkeypatch.setattr(export, "CSV_CHUNK", 1)
    response = client.get(f"{url}.csv", buffered=False)
    assert response.is_streamed
    pieces = list(response.response)
    response.close()
    assert b"".join(pieces) == whole_csv
    # One piece per row; the blank row between two sheets goes with the next one.
    assert len(pieces) == whole_csv.count(b"\r\n") - (len(whole_book) - 1)
    assert [sheet_rows(sheet) for sheet in workbook(client, current).worksheets] == whole_book
    response = client.get(f"{url}.xlsx", buffered=False)
    assert response.is_streamed  # sent from its temporary file, not from memory
    response.close()


def test_neither_file_holds_a_totals_only_member(app, client, campaigns):
    _earlier, current = campaigns
    rows = csv_rows(client, current)
    named = rows[1 : rows.index([])]
    assert sorted(row[0] for row in named) == [
        "'=HYPERLINK(1) 0",
        *(f"Pública {n}" for n in range(3)),
    ]
    book = workbook(client, current)
    cells = [
        str(c)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
    ]
    text = "\n".join(",".join(row) for row in rows) + "\n".join(cells)
    assert "Secreta" not in text and len(book["Socias"]["A"]) == 5  # header + 4 named


def test_the_comparison_with_an_earlier_campaign(app, client, campaigns):
    earlier, current = campaigns
    page = client.get(f"/es/associations/campaigns/{current}").get_data(as_text=True)
    section = page.split('id="comparison"')[1].split("</section>")[0]
    # The current release holds 4 members at 100 and 6 at 0: an average of 40.
    assert (
        '<th scope="row">Resultado general</th><td data-label="Campaña 2026">40%</td>'
        '<td data-label="Campaña 2025">100%</td><td data-label="Diferencia">-60</td>'
    ) in section
    rows = csv_rows(client, current)
    start = rows.index(["Área", "Campaña 2026", "Campaña 2025", "Diferencia (puntos)"])
    assert rows[start + 1] == ["Resultado general", "40", "100", "-60"]
    day = datetime.now(UTC).date().isoformat()  # released today (UTC), as a date
    assert rows[start + 6 : start + 8] == [
        ["Campaña 2026", "10", day, "40"],
        ["Campaña 2025", "5", day, "100"],
    ]
    # The earlier campaign has nothing earlier to compare with.
    assert 'id="comparison"' not in client.get(f"/es/associations/campaigns/{earlier}").get_data(
        as_text=True
    )


def test_the_comparison_counts_areas_and_only_this_associations_released_campaigns(
    app, client, campaigns
):
    _earlier, current = campaigns
    unreleased = new_campaign(client, name="Campaña piloto")  # no release: not compared
    add_members(app, unreleased, 4)
    create_association(app, "Otro gremio", "otro@example.cl")
    other = app.test_client()
    login(other, "otro@example.cl")
    foreign = new_campaign(other, name="Campaña ajena")
    add_members(app, foreign, 5, answers=HALF)
    later = new_campaign(client, name="Campaña 2027")
    add_members(app, later, 5, answers=HALF)
    page = client.get(f"/es/associations/campaigns/{later}").get_data(as_text=True)
    section = page.split('id="comparison"')[1].split("</section>")[0]
    assert "Campaña ajena" not in section and "Campaña piloto" not in section
    assert '<th scope="col">Campaña 2026</th>' in section  # the one just before
    for area in ("Gestión", "Relación con el entorno"):
        row = section.split(f'<th scope="row">{area}</th>')[1].split("</tr>")[0]
        assert 'data-label="Diferencia">' in row and "–" not in row, row


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("es", ["punto y coma", "XLSX", "versión es la edición de las preguntas", "Imprimir"]),
        ("ht", ["pwen-vigil", "XLSX", "Vèsyon an se edisyon kesyon yo", "Enprime"]),
    ],
)
def test_the_dashboard_says_which_file_to_choose_and_what_a_version_is(
    app, client, campaigns, lang, words
):
    _earlier, current = campaigns
    page = client.get(f"/{lang}/associations/campaigns/{current}").get_data(as_text=True)
    for word in words:
        assert word in page, word
    assert f'href="/{lang}/associations/campaigns/{current}/export.xlsx"' in page
    form = client.get(f"/{lang}/associations/campaigns/new").get_data(as_text=True)
    assert 'aria-describedby="version-hint"' in form
