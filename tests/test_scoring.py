"""Scoring: hand-checked examples and properties that must hold for every answer set."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.engine import AnswerError
from app.engine import score
from app.engine.model import DONT_KNOW
from app.engine.model import NOT_APPLICABLE
from app.engine.scoring import top_actions
from tests.strategies import answer_sets
from tests.strategies import answer_values
from tests.strategies import profiles

GREMIO = {"tipo": "gremio", "dotacion": 30, "socios": 12}
EMPRESA_CHICA = {"tipo": "empresa", "dotacion": 5}


def best_answers(questionnaire):
    return {q.id: q.best_answer() for q in questionnaire.questions}


def test_hand_checked_mixed_answers(example):
    answers = {
        "contrato_escrito": "si",
        "reglamento_interno": "yes",
        "responsable": "1",  # 3 x 1 = 3 of 9
        "capacitacion": "yes",  # 2 of 2
        "capacitacion_horas": 2,  # band 0: 0 of 1
        "apoyos": ["tramites"],  # 1 of cap 2
        "socios_orientados": "no",  # 0 of 1
    }
    result = score(example, GREMIO, answers)
    # gestion: (3 + 2 + 0) / (9 + 2 + 1) = 5/12 = 41.67 -> 42
    assert result.dimensions["gestion"].score == 42
    # entorno: (1 + 0) / (2 + 1) = 33.3 -> 33
    assert result.dimensions["entorno"].score == 33
    # overall: mean of 5/12 and 1/3 = 0.375 -> 38 (rounded from exact fractions, half up)
    assert result.overall == 38
    assert result.level.id == "inicial"
    assert result.knockouts_failed == ()
    assert [a.action.id for a in result.actions] == ["designar_responsable", "ofrecer_idioma"]


def test_hidden_by_profile_leaves_the_denominator(example):
    answers = {
        "responsable": "3",
        "capacitacion": "yes",
        "capacitacion_horas": 8,
        "apoyos": ["idioma", "tramites"],
    }
    result = score(example, EMPRESA_CHICA, answers)
    # socios_orientados only applies to gremios; reglamento_interno from 10 workers.
    assert result.outcomes["socios_orientados"].state == "hidden_by_profile"
    assert result.outcomes["reglamento_interno"].state == "hidden_by_profile"
    assert result.dimensions["entorno"].score == 100


def test_follow_up_hidden_by_an_answer_keeps_its_points_possible(example):
    result = score(example, EMPRESA_CHICA, {"responsable": "3", "capacitacion": "no"})
    assert result.outcomes["capacitacion_horas"].state == "hidden_by_answer"
    # (9 + 0 + 0) / (9 + 2 + 1)
    assert result.dimensions["gestion"].score == 75


def test_not_applicable_leaves_the_denominator(example):
    result = score(example, EMPRESA_CHICA, {"apoyos": NOT_APPLICABLE})
    assert result.dimensions["entorno"].score is None
    assert result.outcomes["apoyos"].state == "not_applicable"


def test_dont_know_scores_zero_and_asks_to_verify(example):
    result = score(example, GREMIO, {"contrato_escrito": DONT_KNOW, "responsable": DONT_KNOW})
    assert [q.id for q in result.verify] == ["contrato_escrito", "responsable"]
    assert "designar_responsable" not in [a.action.id for a in result.actions]
    assert result.knockouts_failed == ("contrato_escrito",)
    assert result.outcomes["responsable"].earned == 0


def test_failed_knockout_caps_the_level_and_comes_first(example):
    answers = best_answers(example) | {"contrato_escrito": "parcial"}
    result = score(example, GREMIO, answers)
    assert result.knockouts_failed == ("contrato_escrito",)
    assert result.level.id == "pendiente"
    assert result.overall == 100  # the legal block does not count in the score
    assert result.actions[0].action.id == "escriturar_contratos"
    assert result.actions[0].knockout


def test_unanswered_knockout_blocks_levels_that_need_passed_knockouts(example):
    answers = best_answers(example)
    del answers["reglamento_interno"]
    result = score(example, GREMIO, answers)
    assert result.knockouts_pending == ("reglamento_interno",)
    assert "reglamento_interno" in result.unanswered
    assert result.level.id == "pendiente"


def test_required_answer_on_a_named_question(example):
    answers = best_answers(example) | {"responsable": "1"}
    result = score(example, GREMIO, answers)
    # gestion is (3 + 2 + 1) / 12 = 50, overall 75: enough points, but the level
    # requires 2 points on `responsable`.
    assert result.overall == 75
    assert result.level.id == "inicial"


def test_actions_put_must_haves_first_then_the_rest_by_priority(example):
    answers = {
        "contrato_escrito": "si",
        "reglamento_interno": "no",
        "responsable": "0",
        "capacitacion": "no",
        "apoyos": ["familia"],
    }
    result = score(example, GREMIO, answers)
    ids = [a.action.id for a in result.actions]
    # The failed must-have first; the next level ("inicial") needs only that, so the
    # rest follow by priority: responsable (high), capacitacion (medium), apoyos (low),
    # although apoyos would add more than capacitacion.
    assert ids == ["dictar_reglamento", "designar_responsable", "capacitar", "ofrecer_idioma"]
    gains = {a.action.id: a.gain for a in result.actions}
    assert gains["ofrecer_idioma"] > gains["capacitar"] > 0


def test_the_results_open_with_the_head_of_the_plan(example):
    answers = {"contrato_escrito": "si", "reglamento_interno": "no", "responsable": "0",
               "capacitacion": "no", "apoyos": ["familia"]}  # fmt: skip
    plan = score(example, GREMIO, answers).actions
    assert top_actions(plan) == plan  # four actions: fewer than five, all shown
    assert top_actions(plan, fewest=2) == plan[:2]  # the must-have, and one to make two
    assert top_actions(plan, fewest=0) == plan[:1]  # only the must-have presses
    assert top_actions(plan, fewest=0, most=0) == ()


def test_commitments(example):
    answers = {"responsable": "3", "capacitacion": "no", "apoyos": ["idioma"]}
    result = score(example, EMPRESA_CHICA, answers)
    # C1: responsable 9/9 + apoyos 1/2 -> 10/11 = 91 -> in place
    assert (result.commitments["C1"].score, result.commitments["C1"].status) == (91, "in_place")
    # C2: capacitacion 0/2 + apoyos 1/2 -> 25 -> partial
    assert (result.commitments["C2"].score, result.commitments["C2"].status) == (25, "partial")


def test_evidence_list(example):
    result = score(example, GREMIO, {"contrato_escrito": "si", "responsable": "0"})
    evidence = {item.question.id: item.ready for item in result.evidence}
    assert evidence == {"contrato_escrito": True, "responsable": False}


@pytest.mark.parametrize(
    ("answers", "question"),
    [
        ({"nada": "si"}, "nada"),
        ({"contrato_escrito": "tal_vez"}, "contrato_escrito"),
        ({"apoyos": "idioma"}, "apoyos"),
        ({"apoyos": ["ninguno", "idioma"]}, "apoyos"),
        ({"capacitacion_horas": "cinco"}, "capacitacion_horas"),
        ({"capacitacion_horas": 5000}, "capacitacion_horas"),
        ({"capacitacion_horas": True}, "capacitacion_horas"),
        ({"capacitacion": NOT_APPLICABLE}, "capacitacion"),
        ({"comentarios": "x" * 501}, "comentarios"),
        ({"comentarios": 12}, "comentarios"),
    ],
)
def test_invalid_answers_name_the_question(example, answers, question):
    with pytest.raises(AnswerError) as caught:
        score(example, GREMIO, answers)
    assert caught.value.question_id == question


# --- Properties ----------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def questionnaires_under_test(example):
    from tests.test_questionnaire_content import real_questionnaires

    return [example, *real_questionnaires()]


def level_rank(result):
    return [level.id for level in result.questionnaire.levels].index(result.level.id)


def scores(result):
    values = {"overall": result.overall, "level": level_rank(result)}
    values |= {f"dim:{k}": v.score for k, v in result.dimensions.items()}
    values |= {f"commitment:{k}": v.score for k, v in result.commitments.items()}
    return values


@pytest.fixture(scope="module")
def all_questionnaires(example):
    return questionnaires_under_test(example)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_scores_stay_within_0_and_100(all_questionnaires, data):
    for questionnaire in all_questionnaires:
        profile = data.draw(profiles(questionnaire))
        result = score(questionnaire, profile, data.draw(answer_sets(questionnaire)))
        for name, value in scores(result).items():
            if name != "level" and value is not None:
                assert 0 <= value <= 100, name


@PROPERTY_SETTINGS
@given(data=st.data())
def test_best_answers_give_100_and_the_top_level(all_questionnaires, data):
    for questionnaire in all_questionnaires:
        profile = data.draw(profiles(questionnaire))
        result = score(questionnaire, profile, best_answers(questionnaire))
        assert result.overall == 100
        assert result.level.id == questionnaire.levels[-1].id
        assert result.actions == ()
        assert all(d.score in (100, None) for d in result.dimensions.values())


@PROPERTY_SETTINGS
@given(data=st.data())
def test_raising_one_answer_never_lowers_any_score(all_questionnaires, data):
    for questionnaire in all_questionnaires:
        profile = data.draw(profiles(questionnaire))
        answers = data.draw(answer_sets(questionnaire))
        question = data.draw(st.sampled_from(questionnaire.questions))
        current = answers.get(question.id)
        assume(current != NOT_APPLICABLE)
        better = data.draw(answer_values(question, special=False))
        if current is not None:
            assume(question.points(better) >= question.points(current))
        before = score(questionnaire, profile, answers)
        after = score(questionnaire, profile, answers | {question.id: better})
        for name, value in scores(before).items():
            if value is not None and scores(after)[name] is not None:
                assert scores(after)[name] >= value, (question.id, current, better, name)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_not_applicable_keeps_a_perfect_score(all_questionnaires, data):
    for questionnaire in all_questionnaires:
        profile = data.draw(profiles(questionnaire))
        answers = best_answers(questionnaire)
        optional = [q.id for q in questionnaire.questions if q.allow_na]
        if not optional:
            continue
        for question_id in data.draw(st.lists(st.sampled_from(optional), unique=True)):
            answers[question_id] = NOT_APPLICABLE
        result = score(questionnaire, profile, answers)
        assert result.overall in (100, None)
        assert result.level.id == questionnaire.levels[-1].id


@PROPERTY_SETTINGS
@given(data=st.data())
def test_the_top_actions_are_the_head_of_the_plan(all_questionnaires, data):
    for questionnaire in all_questionnaires:
        profile = data.draw(profiles(questionnaire))
        plan = score(questionnaire, profile, data.draw(answer_sets(questionnaire))).actions
        top = top_actions(plan)
        assert top == plan[: len(top)]
        pressing = [a for a in plan if a.knockout or a.for_next_level]
        assert plan[: len(pressing)] == tuple(pressing)  # what presses leads the plan
        for group in ([a for a in plan if a.for_next_level], plan[len(pressing) :]):
            order = [(a.action.priority_rank, -a.gain) for a in group]
            assert order == sorted(order)  # by priority, then by what it would add
        assert len(top) == min(len(plan), max(5, min(len(pressing), 7)))


@PROPERTY_SETTINGS
@given(data=st.data())
def test_answer_order_is_irrelevant(all_questionnaires, data):
    for questionnaire in all_questionnaires:
        profile = data.draw(profiles(questionnaire))
        answers = data.draw(answer_sets(questionnaire))
        items = list(answers.items())
        random.Random(data.draw(st.integers())).shuffle(items)
        assert score(questionnaire, profile, answers) == score(questionnaire, profile, dict(items))
