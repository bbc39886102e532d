"""An answer that says the opposite of the art. 20 calculator (engine rule)."""

from __future__ import annotations

import pytest

from app.engine import load_file
from app.engine.calculators import art20
from app.engine.checks import contradicts_calculation
from tests.support.content import ROOT


@pytest.fixture(scope="module")
def share_question():
    questionnaire = load_file(ROOT / "questionnaires" / "compromiso-migrante" / "v1.yaml")
    question = questionnaire.fields["legal_proporcion_85"]
    assert question.calculator == "art20"
    return question


@pytest.mark.parametrize(
    ("answer", "numbers", "contradicts"),
    [
        ("si", (100, 0, 30, 0, 0), True),  # 70 %: "yes, and we calculated it" is wrong
        ("si", (100, 0, 30, 10, 10), False),  # 90 %
        ("no", (100, 0, 30, 10, 10), True),  # meets the rule, answered that it does not
        ("no", (100, 0, 30, 0, 0), False),
        ("parcial", (100, 0, 30, 0, 0), False),  # "we believe so, not calculated": no claim
        ("dont_know", (100, 0, 30, 0, 0), False),
    ],
)
def test_an_answer_against_the_calculation(share_question, answer, numbers, contradicts):
    meets_rule = art20(*numbers).meets_rule
    assert contradicts_calculation(share_question, answer, meets_rule) is contradicts
