"""Offline with ODK or KoboToolbox: the XLSForm export is a real XLSForm (pyxform
converts it, and every question, option, language and condition survives), and the
import of what KoboToolbox or ODK Central export scores exactly as the engine does."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

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
