"""The fixture questionnaire the journey tests run on: valid, fully translated for
the tests, and kept out of the project's translation catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.catalogs import PLACEHOLDER
from app.catalogs import extract
from app.engine import load_directory
from app.engine.texts import texts
from tests.support.content import FIXTURES
from tests.support.content import MINI_DIRECTORY
from tests.support.content import ROOT


@pytest.fixture(scope="module")
def mini():
    return load_directory(MINI_DIRECTORY).get("mini")


def test_apps_built_by_the_suite_run_the_fixture_questionnaire(app):
    assert app.config["QUESTIONNAIRE"] == "mini"
    assert [q.id for q in app.extensions["questionnaires"]] == ["mini"]


def test_fixture_has_every_part_of_the_format(mini):
    assert mini.profile and mini.commitments and len(mini.levels) >= 3
    legal, *areas = mini.dimensions
    assert legal.legal and any(q.knockout for q in legal.questions)
    assert len(areas) == 2
    questions = mini.questions
    assert any(q.when and q.when.names & {q.id for q in questions} for q in questions)  # follow-up
    assert any(a.resources for q in questions for a in q.actions)
    assert any(q.calculator for q in questions)


@pytest.mark.parametrize("lang", ["ht", "en"])
def test_fixture_catalog_translates_every_text(mini, lang):
    path = FIXTURES / "translations" / lang / "LC_MESSAGES" / "questionnaires.po"
    with path.open("rb") as handle:
        catalog = {(m.context, m.id): m.string for m in read_po(handle) if m.id}
    wanted = {(context, text) for context, text, _line, _note in texts(mini)}
    assert wanted - set(catalog) == set(), "untranslated: see tests/README.md"
    assert set(catalog) - wanted == set(), "stale entries in the fixture catalog"
    for (context, text), translated in catalog.items():
        assert translated.strip(), context
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(text))


def test_fixture_text_stays_out_of_the_project_catalogs(tmp_path):
    """`make translations` extracts questionnaires/ only: tests/ never reaches translators."""
    extract("questionnaires", tmp_path / "questionnaires.pot")
    committed = [ROOT / "translations" / "questionnaires.pot"]
    committed += sorted((ROOT / "translations").glob("*/LC_MESSAGES/questionnaires.po"))
    for path in [tmp_path / "questionnaires.pot", *committed]:
        with Path(path).open("rb") as handle:
            contexts = {m.context or "" for m in read_po(handle) if m.id}
        assert contexts, path
        assert not any(c.startswith("mini/") for c in contexts), path
