"""Offline with ODK or KoboToolbox: the XLSForm export is a real XLSForm (pyxform
converts it, and every question, option, language and condition survives), and the
import of what KoboToolbox or ODK Central export scores exactly as the engine does."""

from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from pyxform.xls2xform import convert
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.assess import store
from app.engine import score
from app.engine.checks import failed_checks
from app.engine.journey import Journey
from app.engine.journey import profile_gaps
from app.extensions import db
from app.models import Assessment
from app.models import ResultItem
from tests.strategies import answer_sets
from tests.strategies import profiles
from tests.support.content import SHIPPED
from tests.support.odk import Filled
from tests.support.odk import XLSForm
from tests.support.odk import cells
from tests.support.odk import csv_export
from tests.support.odk import json_export

XF = "{http://www.w3.org/2002/xforms}"
LANGUAGES = ["Español (es)", "Kreyòl ayisyen (ht)", "English (en)"]


@pytest.fixture
def shipped(make_app):
    return make_app(**SHIPPED)


def export_workbook(app, questionnaire, tmp_path) -> bytes:
    path = tmp_path / f"{questionnaire.id}-v{questionnaire.version}.xlsx"
    result = app.test_cli_runner().invoke(
        args=[
            "questionnaire", "xlsform", questionnaire.id,
            "--version", str(questionnaire.version), "-o", str(path),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def run_import(app, path, *args):
    return app.test_cli_runner().invoke(args=["assessments", "import", str(path), *args])


def visible(questionnaire, profile, answers) -> tuple[dict, dict]:
    """What a phone submits: the profile and answers the journey shows."""
    journey = Journey(questionnaire, profile, answers)
    shown = {k: v for k, v in answers.items() if journey.visible(questionnaire.fields[k])}
    return journey.shown_profile_values(), shown


def stored_result(app, instance_id):
    with app.app_context():
        assessment = db.session.scalar(
            sa.select(Assessment).where(Assessment.submission_id == instance_id)
        )
        dimensions = dict(
            db.session.execute(
                sa.select(ResultItem.key, ResultItem.value).where(
                    ResultItem.assessment_id == assessment.id, ResultItem.kind == "dimension"
                )
            ).all()
        )
        return assessment, dimensions


FORMATS = {
    # KoboToolbox: XML names with their groups, ";"; and labels in Creole, ","
    "kobo-names": lambda form, q, f: csv_export([cells(form, q, f)], delimiter=";"),
    "kobo-labels-ht": lambda form, q, f: csv_export(
        [cells(form, q, f, labels="Kreyòl ayisyen (ht)", hierarchy=True)], delimiter=","
    ),
    "kobo-labels-es": lambda form, q, f: csv_export(
        [cells(form, q, f, labels="Español (es)", details=False)], delimiter=";"
    ),
    # ODK Central: "-" between a group and a field, ","; its JSON nests the groups.
    "odk-central": lambda form, q, f: csv_export(
        [cells(form, q, f, separator="-", details=False)], delimiter=","
    ),
    "kobo-json": lambda form, q, f: json_export([cells(form, q, f)], envelope="results"),
    "odk-json": lambda form, q, f: json_export([cells(form, q, f, details=False)], nested=True),
}


@pytest.fixture(scope="module")
def workbooks():
    return {}


def test_round_trip_scores_as_the_engine(shipped, tmp_path, workbooks):
    """Generated answers, written as KoboToolbox or ODK Central export them (Spanish and
    Creole labels or XML names, CSV or JSON), import to the engine's score and level."""
    with shipped.app_context():
        registry = shipped.extensions["questionnaires"]
        questionnaire = registry.get("compromiso-migrante", 1)
    form = XLSForm(export_workbook(shipped, questionnaire, tmp_path))

    @settings(
        max_examples=25,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each example is an import
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(
        profile=profiles(questionnaire),
        answers=answer_sets(questionnaire),
        kind=st.sampled_from(sorted(FORMATS)),
    )
    def round_trip(profile, answers, kind):
        profile, answers = visible(questionnaire, profile, answers)
        assume(not profile_gaps(questionnaire, profile))
        assume(not failed_checks(questionnaire, profile | answers))
        filled = Filled(str(uuid.uuid4()), profile, answers, member_name="Taller Arica")
        path = tmp_path / f"{kind}.export"
        path.write_bytes(FORMATS[kind](form, questionnaire, filled))
        result = run_import(shipped, path, "--questionnaire", questionnaire.id, "--version", "1")
        assert result.exit_code == 0, (kind, result.output)
        expected = score(questionnaire, profile, answers)
        assessment, dimensions = stored_result(shipped, filled.instance_id)
        assert (assessment.overall, assessment.level) == (expected.overall, expected.level.id)
        assert dimensions == {
            d: s.score
            for d, s in expected.dimensions.items()
            if s.score is not None and not questionnaire.dimension_by_id[d].legal
        }

    round_trip()


def xform_of(workbook: bytes):
    warnings = []
    result = convert(workbook, warnings=warnings, validate=False, file_type=".xlsx")
    return ET.fromstring(result.xform), warnings


def test_every_shipped_version_is_a_real_xlsform(shipped, tmp_path):
    """pyxform, the reference converter, turns the export of every shipped questionnaire
    version into an XForm without a warning, and every question (in each form it is
    asked), option, language, condition and check is in it."""
    registry = shipped.extensions["questionnaires"]
    assert len(registry) >= 1
    for questionnaire in registry:
        root, warnings = xform_of(export_workbook(shipped, questionnaire, tmp_path))
        assert warnings == []
        head = root.find("{http://www.w3.org/1999/xhtml}head")
        model = head.find(f"{XF}model")
        languages = [t.get("lang") for t in model.find(f"{XF}itext")]
        assert languages == LANGUAGES
        binds = {b.get("nodeset").rsplit("/", 1)[1]: b for b in model.iter(f"{XF}bind")}
        texts = {
            lang.get("lang"): {t.get("id"): "".join(t.itertext()) for t in lang}
            for lang in model.find(f"{XF}itext")
        }
        instances = {i.get("id"): i for i in model.iter(f"{XF}instance") if i.get("id")}
        body = root.find("{http://www.w3.org/1999/xhtml}body")
        controls = {
            c.get("ref").rsplit("/", 1)[1]: c
            for c in body.iter()
            if c.get("ref", "").startswith("/")
        }
        for question in (*questionnaire.profile, *questionnaire.questions):
            names = [question.id] + ([f"{question.id}__reworded"] if question.reworded else [])
            for name in names:
                bind = binds[name]
                assert (bind.get("relevant") is not None) == (
                    question.when is not None or question.reworded is not None
                ), name
                assert (bind.get("required") == "true()") == question.required, name
                if question.type in ("number", "text"):
                    assert controls[name].tag == f"{XF}input", name
                    continue
                itemset = controls[name].find(f"{XF}itemset").get("nodeset")
                items = instances[itemset.split("'")[1]].iter(f"{XF}item")
                values = [item.find(f"{XF}name").text for item in items]
                for lang in LANGUAGES:
                    assert all(texts[lang][f"{name}-{i}"] for i in range(len(values)))
                expected = [o.value for o in question.options]
                expected += ["dont_know"] * question.dont_know + ["na"] * question.allow_na
                assert values == expected, name
                dimension = questionnaire.dimension_of.get(question.id)
                label = f"/data/{dimension.id if dimension else 'profile'}/{name}:label"
                for lang in LANGUAGES:  # every label in every language, none empty
                    assert texts[lang][label].strip(), (name, lang)
        for check in questionnaire.checks:
            for name in check.questions:
                assert "not(" in binds[name].get("constraint", ""), (check.id, name)


def test_a_condition_xlsform_cannot_say_fails_naming_the_question(make_app, tmp_path, example_dir):
    text = (example_dir / "ejemplo" / "v1.yaml").read_text(encoding="utf-8")
    (tmp_path / "ejemplo").mkdir()
    # A field "in" another field: the engine reads it, this export has no way to say it.
    changed = text.replace("when: capacitacion == 'yes'", "when: capacitacion in responsable")
    assert changed != text
    (tmp_path / "ejemplo" / "v1.yaml").write_text(changed, encoding="utf-8")
    app = make_app(QUESTIONNAIRES_DIR=str(tmp_path))
    result = app.test_cli_runner().invoke(
        args=["questionnaire", "xlsform", "ejemplo", "-o", str(tmp_path / "x.xlsx")]
    )
    assert result.exit_code == 2
    assert "capacitacion_horas" in result.output and "cannot be written" in result.output
    assert not (tmp_path / "x.xlsx").exists()


# --- The import, on the fixture questionnaire --------------------------------------

MINI_PROFILE = {
    "p_tipo_organizacion": "empresa",
    "p_dotacion_total": 80,
    "p_dotacion_extranjera": 12,
    "p_sector": "comercio",
    "p_region": "metropolitana",
}


def mini_export(app, tmp_path, filled: list[Filled], name="kobo.csv", **options) -> str:
    with app.app_context():
        questionnaire = app.extensions["questionnaires"].get("mini")
    form = XLSForm(export_workbook(app, questionnaire, tmp_path))
    rows = [cells(form, questionnaire, f, **options) for f in filled]
    path = tmp_path / name
    path.write_bytes(csv_export(rows))
    return path


def member(name="", answers="best", **extra) -> Filled:
    """A submission of the fixture questionnaire, with every question it shows answered."""
    return Filled(str(uuid.uuid4()), dict(MINI_PROFILE), {}, member_name=name, **extra)


def with_answers(app, filled: Filled, answers="best") -> Filled:
    with app.app_context():
        questionnaire = app.extensions["questionnaires"].get("mini")
    chosen = {
        q.id: q.best_answer() if answers == "best" else q.worst_answer()
        for q in questionnaire.questions
    }
    filled.profile, filled.answers = visible(questionnaire, filled.profile, chosen)
    return filled


def assessments(app) -> list[Assessment]:
    with app.app_context():
        return db.session.scalars(sa.select(Assessment).order_by(Assessment.id)).all()


def test_importing_twice_adds_nothing(app, tmp_path):
    path = mini_export(app, tmp_path, [with_answers(app, member(f"Org {i}")) for i in range(3)])
    first = run_import(app, path, "--questionnaire", "mini")
    assert first.exit_code == 0, first.output
    assert "imported 3, skipped 0" in first.output
    again = run_import(app, path, "--questionnaire", "mini")
    assert again.exit_code == 0, again.output
    assert "imported 0, skipped 3" in again.output
    rows = assessments(app)
    assert len(rows) == 3
    assert all(a.submitted_at is not None and a.campaign_id is None for a in rows)


def test_an_import_stores_what_the_web_stores_on_submit(app, tmp_path):
    """The import writes all its rows at once (store.add_submitted): each assessment's
    answers, figures and columns are those the web's own save and submit write."""
    filled = [with_answers(app, member("Sol"), "best"), with_answers(app, member(), "worst")]
    result = run_import(app, mini_export(app, tmp_path, filled), "--questionnaire", "mini")
    assert result.exit_code == 0, result.output

    def figures(assessment_id):
        rows = db.session.execute(
            sa.select(ResultItem.kind, ResultItem.key, ResultItem.value, ResultItem.status).where(
                ResultItem.assessment_id == assessment_id
            )
        )
        return sorted(rows, key=repr)

    with app.app_context():
        questionnaire = app.extensions["questionnaires"].get("mini")
        for submitted in filled:
            imported = db.session.scalar(
                sa.select(Assessment).where(Assessment.submission_id == submitted.instance_id)
            )
            web, _token = Assessment.start(questionnaire, imported.language)
            db.session.add(web)
            db.session.flush()
            answers = {k: v for k, v in submitted.answers.items() if v != ""}  # posts nothing
            store.save_changes(db.session.connection(), web.id, submitted.profile | answers)
            expected = score(questionnaire, submitted.profile, answers)
            assert store.submit(web, expected, submitted.profile)
            db.session.refresh(web)  # written by a Core UPDATE
            imported_values, web_values = (
                store.decoded_values(store.stored_answers(record.id), questionnaire)
                for record in (imported, web)
            )
            assert imported_values == web_values
            assert figures(imported.id) == figures(web.id)
            columns = ("overall", "level", "member_id", "superseded", "previous_id")
            assert [getattr(imported, c) for c in columns] == [getattr(web, c) for c in columns]
            assert imported.submitted_at is not None and imported.member_name is None
        db.session.rollback()


def test_malformed_rows_are_refused_by_row_and_question_and_nothing_is_imported(app, tmp_path):
    good = with_answers(app, member("Buena"))
    bad_choice = with_answers(app, member("Mala", raw={"g_responsable": "7"}))
    bad_number = with_answers(app, member("Otra", raw={"p_dotacion_total": "muchas"}))
    combined = with_answers(app, member("Más", raw={"e_apoyos": "ninguno idioma"}))
    no_id = with_answers(app, member("Sin id"))
    path = mini_export(app, tmp_path, [good, bad_choice, bad_number, combined, no_id])
    text = path.read_text(encoding="utf-8").replace(no_id.instance_id, "")
    path.write_text(text, encoding="utf-8")
    result = run_import(app, path, "--questionnaire", "mini", "--lang", "es")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"row 3 ({bad_choice.instance_id}): g_responsable: Elija una de las opciones." in lines
    assert any(line.startswith("row 4 (") and ": p_dotacion_total: " in line for line in lines)
    assert any(line.startswith("row 5 (") and ": e_apoyos: " in line for line in lines)
    assert any(line.startswith("row 6: instanceID: ") for line in lines)
    assert not any(line.startswith("row 2") for line in lines)
    assert "nothing imported" in result.output
    assert assessments(app) == []


def test_files_that_are_not_exports_exit_2(app, tmp_path):
    for name, content in (
        ("a.csv", b"\xff\xfe not utf-8"),
        ("b.json", b"{not json"),
        ("c.csv", b"nombre;edad\nAna;3\n"),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        result = run_import(app, path, "--questionnaire", "mini")
        assert result.exit_code == 2, (name, result.output)
        assert result.output.startswith("error: ") and len(result.output.splitlines()) == 1
    result = run_import(app, tmp_path / "a.csv", "--questionnaire", "nada")
    assert result.exit_code == 2 and "unknown questionnaire" in result.output


def test_campaign_import_shares_totals_only_and_writes_links_and_cards(app, tmp_path):
    from tests.support.accounts import create_association
    from tests.support.accounts import login
    from tests.support.accounts import new_campaign

    create_association(app, "Cámara de Arica", "arica@example.cl")
    client = app.test_client()
    login(client, "arica@example.cl")
    campaign_id = new_campaign(client)
    with app.app_context():
        from app.models import Campaign

        code = db.session.get(Campaign, campaign_id).code
    named = with_answers(app, member("Panadería Sol", sharing="named"))
    quiet = [with_answers(app, member(f"Taller {i}"), "worst") for i in range(5)]
    path = mini_export(app, tmp_path, [named, *quiet])
    links, cards_pdf = tmp_path / "links.csv", tmp_path / "cards.pdf"
    result = run_import(
        app, path, "--questionnaire", "mini", "--campaign", code, "--lang", "ht",
        "--links", str(links), "--cards", str(cards_pdf),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = assessments(app)
    assert [a.campaign_id for a in rows] == [campaign_id] * 6
    assert [a.share_named for a in rows] == [True, False, False, False, False, False]
    assert rows[0].member_name == "Panadería Sol" and rows[0].language == "ht"
    table = list(csv.reader(io.StringIO(links.read_text(encoding="utf-8"))))
    assert len(table) == 7 and table[1][1] == named.instance_id and table[1][2] == "Panadería Sol"
    link = table[1][-1]
    assert link.startswith("http://localhost/ht/a/")
    page = client.get(link.removeprefix("http://localhost"), follow_redirects=True)
    assert page.status_code == 200 and "/results" in page.request.path
    assert cards_pdf.read_bytes().startswith(b"%PDF")
    dashboard = client.get(f"/es/associations/campaigns/{campaign_id}")
    assert "Panadería Sol" in dashboard.get_data(as_text=True)
    assert "Taller 1" not in dashboard.get_data(as_text=True)


# --- The upload on the campaign dashboard -------------------------------------------


def association_with_campaign(app, email="taller@example.cl"):
    from tests.support.accounts import create_association
    from tests.support.accounts import login
    from tests.support.accounts import new_campaign

    create_association(app, "Cámara de Arica", email)
    client = app.test_client()
    login(client, email)
    return client, new_campaign(client)


def upload(client, campaign_id, path, lang="es", output="cards", token=True):
    from tests.support.pages import csrf_token_of

    dashboard = f"/{lang}/associations/campaigns/{campaign_id}"
    data = {"output": output, "file": FileStorage(io.BytesIO(path.read_bytes()), path.name)}
    if token:
        data["csrf_token"] = csrf_token_of(client, dashboard)
    # Encoded here: the test client spools a large form to a file it never closes.
    boundary, body = encode_multipart(data)
    content_type = f"multipart/form-data; boundary={boundary}"
    return client.post(f"{dashboard}/import", data=body, content_type=content_type)


def test_dashboard_upload_imports_and_answers_with_the_links(app, tmp_path):
    client, campaign_id = association_with_campaign(app)
    page = client.get(f"/es/associations/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page
    path = mini_export(app, tmp_path, [with_answers(app, member(f"Org {i}")) for i in range(2)])
    refused = upload(client, campaign_id, path, token=False)
    assert refused.status_code == 400 and assessments(app) == []
    response = upload(client, campaign_id, path, output="links")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    links = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert [row[2] for row in links[1:]] == ["Org 0", "Org 1"]
    assert len(assessments(app)) == 2
    cards = upload(client, campaign_id, path)  # the same file again: nothing new
    assert cards.status_code == 302 and len(assessments(app)) == 2


def test_dashboard_upload_lists_problems_by_row_in_the_users_language(app, tmp_path):
    client, campaign_id = association_with_campaign(app)
    bad = with_answers(app, member("Mala", raw={"g_responsable": "7"}))
    path = mini_export(app, tmp_path, [with_answers(app, member("Buena")), bad])
    response = upload(client, campaign_id, path, lang="ht")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    with app.app_context():
        from flask_babel import force_locale
        from flask_babel import gettext

        with force_locale("ht"):
            choose = gettext("Choose one of the options.")
    assert "<td>3</td>" in page and "(g_responsable)" in page and choose in page
    assert assessments(app) == []


def test_dashboard_upload_refuses_a_file_too_large_with_a_message(make_app, tmp_path):
    app = make_app(IMPORT_MAX_BYTES=2048)
    client, campaign_id = association_with_campaign(app)
    path = tmp_path / "big.csv"
    path.write_bytes(b"a;b\n" + b"1;2\n" * 2000)
    response = upload(client, campaign_id, path)
    assert response.status_code == 413
    assert "MB" in response.get_data(as_text=True) and assessments(app) == []


def test_only_the_dashboard_upload_takes_files_up_to_its_2_mb(app, tmp_path):
    """The upload's own limit (IMPORT_MAX_BYTES, 2 MB) is above the site's 256 KiB for
    that route alone: a larger body is the 413 page saying the size, nothing stored."""
    assert app.config["IMPORT_MAX_BYTES"] == 2 * 1024 * 1024
    client, campaign_id = association_with_campaign(app)
    above_site_limit = tmp_path / "notes.csv"
    above_site_limit.write_bytes(b"a\n" + b"x\n" * 150_000)  # 300 KB, not an export
    response = upload(client, campaign_id, above_site_limit)
    assert response.status_code == 422  # read, and refused as no export
    elsewhere = client.post("/es/associations/campaigns/new", data={"name": "x" * 300_000})
    assert elsewhere.status_code == 413
    too_large = tmp_path / "big.csv"
    too_large.write_bytes(b"a;b\n" + b"1;2\n" * (2 * 1024 * 1024 // 4))
    response = upload(client, campaign_id, too_large)
    assert response.status_code == 413
    assert "2 MB" in response.get_data(as_text=True) and assessments(app) == []
