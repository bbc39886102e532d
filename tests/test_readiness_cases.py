"""Honest readiness on the shipped questionnaire: each way a reviewer talked a result
into a better level is tried again here, and the result says what stands between the
organisation and the next level."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.engine import load_directory
from app.engine import score
from app.engine.checks import failed_checks
from app.engine.journey import Journey
from app.engine.model import PROFILE
from app.engine.model import REWORDED
from app.engine.scoring import Need
from app.engine.scoring import State
from app.engine.scoring import normalize_all
from tests.strategies import answer_sets
from tests.strategies import answer_values
from tests.strategies import profiles
from tests.support.content import SHIPPED
from tests.support.visitor import Visitor
from tests.support.visitor import best as best_form

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRE = load_directory(ROOT / "questionnaires").get("compromiso-migrante")
EMPRESA = {
    "p_tipo_organizacion": "empresa",
    "p_regimen_laboral": "codigo_trabajo",
    "p_dotacion_total": 80,
    "p_dotacion_extranjera": 12,
    "p_nacionalidades": frozenset({"haiti", "venezuela"}),
    "p_intermediarios": "si",
    "p_contratistas": "si",
    "p_atencion_publico": "si",
    "p_sector": "comercio",
    "p_region": "metropolitana",
}
MIGRANT_PRACTICES = {
    "ci_migrantes_por_nivel",
    "ci_participacion_estructuras",
    "ci_equidad_remuneraciones",
    "ci_desarrollo_carrera",
    "ci_mujeres_migrantes",
    "g_apoyo_tramites",
}


def best():
    return {q.id: q.best_answer() for q in QUESTIONNAIRE.questions}


def worst():
    return {q.id: q.worst_answer() for q in QUESTIONNAIRE.questions}


def weak():
    """A weak case: the legal basics met, practices mostly just decided."""
    answers = best()
    for question in QUESTIONNAIRE.questions:
        if question.knockout or question.section == PROFILE:
            continue
        middle = sorted(question.options, key=lambda o: o.points)
        if question.type in ("scale", "single") and middle:
            answers[question.id] = middle[len(middle) // 3].value
    return answers


def level_rank(result):
    return QUESTIONNAIRE.levels.index(result.level)


def visible(profile, answers=None):
    journey = Journey(QUESTIONNAIRE, profile, answers or {})
    return {q.id for q in QUESTIONNAIRE.questions if journey.visible(q)}


def broken(profile, answers=None):
    """The fields named by the checks these values break."""
    return [set(c.when.names) for c in failed_checks(QUESTIONNAIRE, profile | (answers or {}))]


# --- The profile cannot buy a level ------------------------------------------


def test_no_foreign_staff_is_asked_the_same_practices_in_a_form_that_fits():
    without = EMPRESA | {"p_dotacion_extranjera": 0, "p_nacionalidades": frozenset({"ninguna"})}
    assert MIGRANT_PRACTICES <= visible(without)
    journey = Journey(QUESTIONNAIRE, without, {})
    asked = {q.id: q for step in journey.steps for q in journey.questions(step)}
    assert all(asked[q].wording == REWORDED for q in MIGRANT_PRACTICES)
    answers = weak()
    before, after = score(QUESTIONNAIRE, EMPRESA, answers), score(QUESTIONNAIRE, without, answers)
    assert after.overall == before.overall  # was 50 -> 64 when the questions were hidden
    assert level_rank(after) <= level_rank(before)
    assert after.commitments["C5"].status != "not_assessed"


def test_the_profile_hides_only_duties_the_law_lifts_or_what_the_organisation_is_not():
    for question in QUESTIONNAIRE.questions:
        if question.when is None:
            continue
        profile_names = {
            n for n in question.when.names if QUESTIONNAIRE.fields[n].section == PROFILE
        }
        if not profile_names:
            continue
        assert question.hidden_because, question.id
        if not question.knockout:  # a practice: only what the organisation is
            assert all(QUESTIONNAIRE.fields[n].identity for n in profile_names), question.id


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"p_dotacion_total": 12, "p_dotacion_extranjera": 40}, {"p_dotacion_extranjera"}),
        ({"p_nacionalidades": frozenset({"ninguna"})}, {"p_nacionalidades"}),
        ({"p_regimen_laboral": "estatuto_publico"}, {"p_regimen_laboral"}),
    ],
)
def test_impossible_profiles_are_refused(values, fields):
    assert any(fields <= names for names in broken(EMPRESA | values))
    assert broken(EMPRESA) == []


def test_language_measures_cannot_be_not_applicable_with_haitian_staff():
    assert any("g_barreras_idioma" in n for n in broken(EMPRESA, {"g_barreras_idioma": "na"}))
    only_venezuela = EMPRESA | {"p_nacionalidades": frozenset({"venezuela"})}
    assert broken(only_venezuela, {"g_barreras_idioma": "na"}) == []


def test_the_85_per_cent_rule_is_derived_from_the_numbers():
    rule = "legal_proporcion_85"
    assert rule not in visible(EMPRESA | {"p_dotacion_total": 25, "p_dotacion_extranjera": 20})
    assert rule not in visible(EMPRESA | {"p_dotacion_total": 80, "p_dotacion_extranjera": 12})
    assert rule in visible(EMPRESA | {"p_dotacion_total": 80, "p_dotacion_extranjera": 13})


NON_IDENTITY = [f for f in QUESTIONNAIRE.profile if not f.identity]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_changing_a_declaration_never_buys_a_better_result(data):
    """For generated answers, changing one declared profile field never raises the overall
    score, and raises the level only where a must-have that the law lifts (listed with
    `hidden_because`) stopped applying."""
    profile = normalize_all(QUESTIONNAIRE, data.draw(profiles(QUESTIONNAIRE)), profile=True)
    answers = normalize_all(QUESTIONNAIRE, data.draw(answer_sets(QUESTIONNAIRE)), profile=False)
    field = data.draw(st.sampled_from(NON_IDENTITY))
    changed = profile | {field.id: data.draw(answer_values(field))}
    changed = normalize_all(QUESTIONNAIRE, changed, profile=True)
    assume(not failed_checks(QUESTIONNAIRE, changed) and not failed_checks(QUESTIONNAIRE, profile))
    before, after = score(QUESTIONNAIRE, profile, answers), score(QUESTIONNAIRE, changed, answers)
    assert after.overall == before.overall, field.id
    if level_rank(after) > level_rank(before):
        lifted = {
            q
            for q, o in before.outcomes.items()
            if o.visible and after.outcomes[q].state == State.HIDDEN_BY_PROFILE
        }
        assert lifted and all(QUESTIONNAIRE.fields[q].hidden_because for q in lifted)
        assert all(QUESTIONNAIRE.fields[q].knockout for q in lifted), (field.id, lifted)


# --- Must-haves, steps and sanctions -------------------------------------------


def test_pending_sanctions_keep_the_level_below_ready():
    top = score(QUESTIONNAIRE, EMPRESA, best())
    assert top.level.id == "referente"
    pending = score(QUESTIONNAIRE, EMPRESA, best() | {"legal_sanciones_recientes": "pendientes"})
    assert level_rank(pending) < QUESTIONNAIRE.levels.index(QUESTIONNAIRE.level_by_id["preparada"])
    remedied = score(QUESTIONNAIRE, EMPRESA, best() | {"legal_sanciones_recientes": "subsanadas"})
    assert remedied.level.id == "referente"
    assert not [a for a in remedied.actions if a.question.id == "legal_sanciones_recientes"]


def test_the_carta_is_a_step_with_an_action():
    unsigned = score(QUESTIONNAIRE, EMPRESA, best() | {"legal_carta_compromiso": "no"})
    ready = QUESTIONNAIRE.levels.index(QUESTIONNAIRE.level_by_id["preparada"])
    assert level_rank(unsigned) < ready
    assert [a for a in unsigned.actions if a.question.id == "legal_carta_compromiso"]
    assert ("practice", "legal_carta_compromiso") in {
        (r.kind, r.id) for r in unsigned.next_level.unmet
    }
    in_process = score(QUESTIONNAIRE, EMPRESA, best() | {"legal_carta_compromiso": "en_proceso"})
    assert in_process.level.id == "referente"


def test_nobody_in_charge_is_named_as_what_the_next_level_needs():
    lowest = min(QUESTIONNAIRE.fields["g_responsable_inclusion"].options, key=lambda o: o.points)
    result = score(QUESTIONNAIRE, EMPRESA, best() | {"g_responsable_inclusion": lowest.value})
    assert level_rank(result) < QUESTIONNAIRE.levels.index(QUESTIONNAIRE.level_by_id["preparada"])
    unmet = {(r.kind, r.id) for r in result.next_level.unmet}
    assert (Need.PRACTICE, "g_responsable_inclusion") in unmet
    first = result.actions[0]
    assert first.for_next_level and first.question.id == "g_responsable_inclusion"


def test_a_failed_must_have_says_the_organisation_cannot_apply_and_blocks_commitments():
    result = score(QUESTIONNAIRE, EMPRESA, best() | {"legal_contrato_escrito": "no"})
    assert not result.can_apply
    assert result.level == QUESTIONNAIRE.levels[0]
    assert all(c.blocked for c in result.commitments.values() if c.status == "in_place")
    assert result.actions[0].question.id == "legal_contrato_escrito"


def test_must_haves_come_first_soonest_first():
    result = score(QUESTIONNAIRE, EMPRESA, worst())
    must = [a for a in result.actions if a.knockout]
    assert must and result.actions[: len(must)] == tuple(must)
    horizons = [a.action.horizon for a in must]
    assert horizons == sorted(horizons)


def test_minimum_standards_are_told_from_legal_requirements():
    bases = {q.id: q.basis for q in QUESTIONNAIRE.questions if q.knockout}
    assert bases["legal_documentos_identidad"] == "standard"
    assert bases["legal_sin_cobros_reclutamiento"] == "standard"
    assert bases["legal_contrato_escrito"] == "law"
    assert "art. 58" not in QUESTIONNAIRE.fields["legal_sin_cobros_reclutamiento"].source


# --- Evidence and actions that fit ---------------------------------------------


def test_no_proof_is_asked_of_fines_an_organisation_does_not_have():
    result = score(QUESTIONNAIRE, EMPRESA, best() | {"legal_sanciones_recientes": "no"})
    assert "legal_sanciones_recientes" not in {e.question.id for e in result.evidence}


def test_evidence_says_when_to_gather_it():
    answers = best() | {"g_politica_escrita": "1", "g_responsable_inclusion": "no"}
    when = {e.question.id: e.when for e in score(QUESTIONNAIRE, EMPRESA, answers).evidence}
    assert when["g_plan_capacitacion"] == "gather_now"
    assert when["g_politica_escrita"] == "once_running"
    assert when["g_responsable_inclusion"] == "after_acting"


def test_a_micro_firm_gets_no_action_it_cannot_carry_out():
    micro = EMPRESA | {"p_dotacion_total": 5, "p_dotacion_extranjera": 1}
    result = score(QUESTIONNAIRE, micro, worst())
    texts = " ".join(a.action.text.lower() for a in result.actions)
    assert "comité paritario" not in texts
    large = score(QUESTIONNAIRE, EMPRESA | {"p_dotacion_total": 300}, worst())
    assert {a.action.id for a in result.actions} != {a.action.id for a in large.actions}


# --- Through the web -----------------------------------------------------------


def profile_form(values):
    return {
        k: ",".join(sorted(v)) if isinstance(v, frozenset) else str(v) for k, v in values.items()
    }


def test_an_impossible_profile_gets_its_message_beside_the_fields(make_app):
    client = make_app(**SHIPPED).test_client()
    for lang in ("es", "ht", "en"):
        visitor = Visitor(client, lang)
        visitor.get(f"/{lang}/a/new")
        data = profile_form(EMPRESA | {"p_dotacion_total": 12, "p_dotacion_extranjera": 40})
        data.pop("p_nacionalidades")
        response = visitor.submit(data)
        assert response.status_code == 422
        assert "error-p_dotacion_extranjera" in visitor.page
        assert 'value="40"' in visitor.page and 'value="12"' in visitor.page  # input kept
        assert visitor.token is None  # nothing was created


def test_results_open_with_what_the_next_level_needs(make_app):
    client = make_app(**SHIPPED).test_client()
    visitor = Visitor(client, "en")
    visitor.start()
    lowest = min(QUESTIONNAIRE.fields["g_responsable_inclusion"].options, key=lambda o: o.points)

    def choose(question):
        return lowest.value if question.id == "g_responsable_inclusion" else best_form(question)

    visitor.answer_all(choose)
    visitor.submit()
    page = visitor.page
    assert page.index('class="next-level"') < page.index('id="areas-title"')
    assert "To reach “" in page
    responsable = QUESTIONNAIRE.fields["g_responsable_inclusion"]
    next_level = page.split('class="next-level"')[1].split("</section>")[0]
    assert responsable.text[:30] in next_level or "at least" in next_level


def test_the_paper_questionnaire_says_the_85_per_cent_condition_in_words(make_app):
    client = make_app(**SHIPPED).test_client()
    for lang in ("es", "ht", "en"):
        response = client.get(f"/{lang}/questionnaire")
        assert response.status_code == 200
    page = client.get("/es/questionnaire").get_data(as_text=True)
    assert "es más del 15" in page
