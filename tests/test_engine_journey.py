"""The journey rules of the engine, without Flask: which steps and questions an
organisation sees, where it goes next, and what a re-assessment keeps."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.engine.journey import Journey
from app.engine.journey import carry_over
from app.engine.journey import profile_gaps
from app.engine.scoring import normalize_all
from tests.strategies import answer_sets
from tests.strategies import profiles

EMPRESA = {"tipo": "empresa", "dotacion": 5}


def ids(items):
    return [item.id for item in items]


def test_profile_decides_the_steps_and_questions(example):
    small = Journey(example, EMPRESA, {})
    legal = example.section_by_id["legal"]
    assert ids(small.questions(legal)) == ["contrato_escrito"]  # no rules below 10 staff
    gremio = Journey(example, {"tipo": "gremio", "dotacion": 40, "socios": 12}, {})
    assert ids(gremio.questions(legal)) == ["contrato_escrito", "reglamento_interno"]
    entorno = example.section_by_id["entorno"]
    assert "socios_orientados" in ids(gremio.questions(entorno))
    assert "socios_orientados" not in ids(small.questions(entorno))
    assert ids(small.steps) == ["profile", "legal", "gestion", "entorno"]


def test_visibility_is_the_scoring_walks(example):
    journey = Journey(example, EMPRESA, {"capacitacion": "no"})
    for question in example.questions:
        assert journey.visible(question) == journey.outcomes[question.id].visible
    assert not journey.visible(example.fields["capacitacion_horas"])  # a follow-up kept shut
    assert journey.with_values({"capacitacion": "yes"}).visible(
        example.fields["capacitacion_horas"]
    )


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_question_shows_when_its_condition_holds_for_what_shows_before_it(example, data):
    """The plain rule, question by question: the journey walks only the questions with
    a condition or read by one, and decides most of them on the profile alone."""
    profile = normalize_all(example, data.draw(profiles(example)), profile=True)
    answers = normalize_all(example, data.draw(answer_sets(example)), profile=False)
    journey = Journey(example, profile, answers)
    known = journey.shown_profile_values()
    for question in example.questions:
        shown = question.when is None or question.when.evaluate(known)
        assert journey.visible(question) == shown, question.id
        if shown and question.id in answers:
            known[question.id] = answers[question.id]


def test_profile_fields_follow_earlier_profile_answers(example):
    profile = example.sections[0]
    assert "socios" not in ids(Journey(example, EMPRESA, {}).questions(profile))
    assert "socios" in ids(Journey(example, {"tipo": "gremio"}, {}).questions(profile))
    assert ids(profile_gaps(example, {"tipo": "gremio", "dotacion": 3})) == ["socios"]
    assert ids(profile_gaps(example, {"tipo": "empresa", "dotacion": None})) == ["dotacion"]
    assert profile_gaps(example, EMPRESA) == []  # `nacionalidades` is optional


def test_next_previous_and_resume(example):
    journey = Journey(example, EMPRESA, {})
    step = example.section_by_id
    assert journey.next_step(step["profile"]) is step["legal"]
    assert journey.next_step(step["entorno"]) is None  # then the review page
    assert journey.previous_step(step["legal"]) is step["profile"]
    assert journey.previous_step(step["profile"]) is step["profile"]
    assert journey.resume_step([]) is step["profile"]
    assert journey.resume_step(["profile", "legal"]) is step["legal"]  # still unanswered
    done = journey.with_values(
        {"contrato_escrito": "si", "responsable": "3", "capacitacion": "no", "apoyos": "na"}
    )
    assert done.resume_step(["profile", "legal", "gestion", "entorno"]) is None
    assert done.all_unanswered() == []


def test_candidates_leave_out_only_what_the_profile_rules_out(example):
    journey = Journey(example, EMPRESA, {"capacitacion": "no"})
    gestion = example.section_by_id["gestion"]
    # A follow-up shut by an answer may open with the same post: it is a candidate.
    assert ids(journey.candidates(gestion)) == ["responsable", "capacitacion", "capacitacion_horas"]
    entorno = example.section_by_id["entorno"]
    assert "socios_orientados" not in ids(journey.candidates(entorno))


def test_unseen_questions_are_the_ones_a_post_opened(example):
    journey = Journey(example, EMPRESA, {"capacitacion": "yes"})
    gestion = example.section_by_id["gestion"]
    assert ids(journey.unseen_questions(gestion, ["responsable", "capacitacion"])) == [
        "capacitacion_horas"
    ]
    assert journey.unseen_questions(gestion, ["responsable", "capacitacion_horas"]) == []


def test_with_values_clears_with_none_and_keeps_the_original(example):
    journey = Journey(example, EMPRESA, {"capacitacion": "yes"})
    cleared = journey.with_values({"capacitacion": None, "dotacion": 50})
    assert cleared.answers == {} and cleared.profile["dotacion"] == 50
    assert journey.answers == {"capacitacion": "yes"} and journey.profile["dotacion"] == 5


def test_carry_over_keeps_only_what_the_questionnaire_accepts(example):
    kept = carry_over(
        example,
        {"tipo": "empresa", "capacitacion": "maybe", "apoyos": ["idioma"], "gone": "x"},
    )
    assert kept == {"tipo": "empresa", "apoyos": frozenset({"idioma"})}


def test_values_with_merges_a_page_without_walking_again(example):
    journey = Journey(example, EMPRESA, {"capacitacion": "yes"})
    merged = journey.values_with({"capacitacion": None, "extranjeros": 2})
    assert merged == {"tipo": "empresa", "dotacion": 5, "extranjeros": 2}
    assert journey.values == {"tipo": "empresa", "dotacion": 5, "capacitacion": "yes"}


def test_newly_open_are_the_required_questions_a_change_showed(example):
    before = Journey(example, EMPRESA, {"capacitacion": "no"})
    gremio = before.with_values({"tipo": "gremio", "dotacion": 40})
    # The profile change asks for the member count and opens a question on a later page.
    assert ids(gremio.newly_open(before)) == ["socios", "reglamento_interno", "socios_orientados"]
    assert before.newly_open(before) == []  # what was open and unanswered is not new
    answered = gremio.with_values({"socios_orientados": "yes"})
    assert "socios_orientados" not in ids(answered.newly_open(before))
