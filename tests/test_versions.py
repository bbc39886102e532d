"""Versions side by side: a newer version says with `replaces` how the answers to an
earlier one carry over (checked by the loader and the registry, each mistake with its
line), a re-assessment keeps the mapped answers, and an assessment pinned to the
earlier version still shows its own results."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.engine import QuestionnaireError
from app.engine import load_text
from app.engine import score
from app.engine.comparison import comparable_result
from app.engine.journey import carry_over
from app.engine.registry import load_directory
from app.engine.registry import validate
from app.extensions import db
from app.models import Answer
from app.models import Assessment
from tests.conftest import readme_example
from tests.support.content import ROOT
from tests.support.content import SHIPPED
from tests.support.visitor import Visitor
from tests.support.visitor import best

# Version 2 of the README example: `responsable` renamed, its options renamed too, and
# `apoyos` split in two (family support goes to a question of its own).
REPLACES = """
replaces:
  version: 1
  questions:
    - id: encargado
      from: responsable
      options: {nadie: "0", decidido: "1", parcial: "2", con_registros: "3"}
    - id: apoyo_familiar
      from: apoyos
      options: {familia: familia}
"""


def version_2(replaces: str = REPLACES) -> str:
    text = readme_example().replace("version: 1", "version: 2", 1)
    text = text.replace("      - id: responsable\n", "      - id: encargado\n", 1)
    for old, new in (("0", "nadie"), ("1", "decidido"), ("2", "parcial"), ("3", "con_registros")):
        text = text.replace(f'{{value: "{old}", label:', f"{{value: {new}, label:", 1)
    text = text.replace("requires: {responsable: 2}", "requires: {encargado: 2}")
    text = text.replace(
        "      - id: socios_orientados\n",
        "      - id: apoyo_familiar\n"
        "        type: multiple\n"
        "        text: ¿Qué apoyos familiares ofrece?\n"
        "        commitments: [C1]\n"
        "        options:\n"
        "          - {value: familia, label: Apoyo para temas familiares, points: 1}\n"
        "          - {value: cuidado, label: Apoyo para el cuidado de hijos, points: 1}\n"
        "          - {value: ninguno, label: Ninguno, points: 0, exclusive: true}\n"
        "      - id: socios_orientados\n",
        1,
    )
    return text + replaces


def write(directory, text, version):
    folder = directory / "ejemplo"
    folder.mkdir(exist_ok=True)
    (folder / f"v{version}.yaml").write_text(text, encoding="utf-8")


def test_a_re_assessment_keeps_the_mapped_answers():
    newer = load_text(version_2(), "v2.yaml")
    earlier = {
        "tipo": "empresa",
        "dotacion": 12,
        "responsable": "2",
        "apoyos": ["familia", "tramites"],
        "contrato_escrito": "si",
    }
    kept = carry_over(newer, earlier, version=1)
    assert kept["encargado"] == "parcial"  # renamed question, renamed option
    assert kept["apoyo_familiar"] == frozenset({"familia"})  # split out, only what it maps
    assert kept["apoyos"] == frozenset({"familia", "tramites"})  # same id, still valid
    assert kept["contrato_escrito"] == "si" and kept["dotacion"] == 12
    assert "responsable" not in kept


def test_only_the_options_a_rule_lists_carry_over_and_specials_stay():
    newer = load_text(version_2(), "v2.yaml")
    kept = carry_over(newer, {"responsable": "dont_know", "apoyos": ["tramites"]}, version=1)
    assert kept["encargado"] == "dont_know"
    assert "apoyo_familiar" not in kept  # nothing it maps was chosen: asked again
    kept = carry_over(newer, {"apoyos": ["ninguno"]}, version=1)
    assert "apoyo_familiar" not in kept  # "none of the supports" is not its "none"


def test_the_mapping_applies_only_to_the_version_it_replaces():
    newer = load_text(version_2(), "v2.yaml")
    assert carry_over(newer, {"responsable": "2"}, version=2) == {}
    assert carry_over(newer, {"encargado": "parcial"}, version=2) == {"encargado": "parcial"}


def test_a_multiple_keeps_the_options_that_still_exist(example):
    kept = carry_over(example, {"apoyos": ["idioma", "gone"], "capacitacion": "maybe"})
    assert kept == {"apoyos": frozenset({"idioma"})}
    assert carry_over(example, {"apoyos": ["gone"]}) == {}


def test_results_compare_only_what_both_versions_measure_alike(example):
    newer = load_text(version_2(), "v2.yaml")
    answers = {"contrato_escrito": "si", "responsable": "2", "capacitacion": "yes"}
    earlier = score(example, {"tipo": "empresa", "dotacion": 12}, answers)
    seen = comparable_result(earlier, newer)
    # `responsable` became `encargado` with renamed options and the same points: the
    # area still measures the same; `entorno` gained a question, so it does not.
    assert set(seen.dimensions) == {"gestion"}
    assert seen.overall is None
    assert set(seen.commitments) == {"C2"}  # C1 now also tags the new question
    same = comparable_result(earlier, example)
    assert set(same.dimensions) == {d.id for d in example.dimensions if not d.legal}
    assert same.overall == earlier.overall and set(same.commitments) == {"C1", "C2"}


def test_v2_results_compare_with_v1_only_in_the_unchanged_area():
    registry = load_directory(ROOT / "questionnaires")
    v1, v2 = registry.get("compromiso-migrante", 1), registry.get("compromiso-migrante", 2)
    best = {q.id: q.best_answer() for q in v1.questions}
    profile = {"p_tipo_organizacion": "empresa", "p_dotacion_total": 80}
    seen = comparable_result(score(v1, profile, best), v2)
    assert set(seen.dimensions) == {"composicion_interna"}  # the pay-gap options were mapped
    assert seen.overall is None and seen.commitments == {}


@pytest.mark.parametrize(
    ("replaces", "at", "expected"),
    [
        (
            "replaces:\n  version: 2\n  questions:\n    - {id: encargado}\n",
            "version: 2",
            "replaces.version: must be an earlier version",
        ),
        (
            "replaces:\n  version: 1\n  questions:\n    - {id: nada, from: responsable}\n",
            "nada",
            "replaces.questions[0].id: unknown question 'nada'",
        ),
        (
            "replaces:\n  version: 1\n  questions:\n    - id: encargado\n"
            "      options: {otro: '0'}\n",
            "otro",
            "replaces.questions[0].options: 'otro' is not an option of 'encargado'",
        ),
        (
            "replaces:\n  version: 1\n  questions:\n    - {id: encargado}\n"
            "    - {id: encargado, from: responsable}\n",
            "from: responsable",
            "replaces.questions[1].id: 'encargado' is named twice",
        ),
    ],
)
def test_the_loader_names_each_mistake_of_the_mapping_with_its_line(replaces, at, expected):
    text = version_2(replaces)
    with pytest.raises(QuestionnaireError) as caught:
        load_text(text, "v2.yaml")
    errors = [str(e) for e in caught.value.errors]
    lines = text.splitlines()
    line = max(number for number, content in enumerate(lines, 1) if at in content)
    assert f"v2.yaml:{line}: {expected}" in "\n".join(errors), errors


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("    - {id: encargado, from: nadie}\n", "replaces.encargado: version 1 has no question"),
        (
            "    - id: encargado\n      from: responsable\n      options: {nadie: '9'}\n",
            "replaces.encargado.options: '9' is not an option of 'responsable'",
        ),
        (
            "    - {id: apoyo_familiar, from: capacitacion}\n",
            "replaces.apoyo_familiar: cannot take the answers of 'capacitacion', a yesno question",
        ),
    ],
)
def test_the_registry_checks_the_mapping_against_the_replaced_version(tmp_path, rule, expected):
    write(tmp_path, readme_example(), 1)
    text = version_2("replaces:\n  version: 1\n  questions:\n" + rule)
    write(tmp_path, text, 2)
    _loaded, errors = validate(sorted(tmp_path.glob("*/*.yaml")), tmp_path)
    rule_line = len(text.splitlines()) - rule.count("\n") + 1
    lines = {line for line in range(rule_line, len(text.splitlines()) + 1)}
    found = [e for e in errors if expected in str(e)]
    assert found and found[0].file == "ejemplo/v2.yaml" and found[0].line in lines, errors
    with pytest.raises(QuestionnaireError):
        load_directory(tmp_path)


def test_the_shipped_versions_load_side_by_side_with_a_valid_mapping():
    registry = load_directory(ROOT / "questionnaires")
    newest = registry.get("compromiso-migrante")
    assert newest.version >= 2 and newest.replaces is not None
    assert registry.get("compromiso-migrante", newest.replaces.version) is not None


# --- Through the web, on the shipped questionnaire --------------------------------


def pin_to(app, version):
    with app.app_context():
        db.session.execute(sa.update(Assessment).values(questionnaire_version=version))
        db.session.commit()


def answers_of(app, token_version):
    with app.app_context():
        assessment = db.session.scalar(
            sa.select(Assessment).where(Assessment.questionnaire_version == token_version)
        )
        rows = db.session.execute(
            sa.select(Answer.question_id, Answer.value).where(Answer.assessment_id == assessment.id)
        ).all()
    return dict(rows)


def answer_every_step(visitor, questionnaire, choose):
    """Answer each step of `questionnaire` (the version the assessment is pinned to)."""
    visitor.get(f"/es/a/{visitor.token}/s/{questionnaire.sections[1].id}")
    for _ in range(len(questionnaire.sections) + 2):
        if "/review" in visitor.url:
            return
        section = questionnaire.section_by_id[visitor.url.rsplit("/s/", 1)[1]]
        visible = [q for q in section.questions if f'id="q-{q.id}"' in visitor.page]
        visitor.submit({q.id: choose(q) for q in visible})
    raise AssertionError("never reached the review page")


def test_a_v1_assessment_keeps_its_results_and_re_assesses_into_v2(make_app):
    app = make_app(**SHIPPED)
    registry = load_directory(ROOT / "questionnaires")
    v1, newest = registry.get("compromiso-migrante", 1), registry.get("compromiso-migrante")
    client = app.test_client()
    visitor = Visitor(client, "es")
    visitor.start()
    pin_to(app, 1)  # an assessment answered before version 2 was published

    def choose(question):
        if question.id == "g_apoyo_tramites":
            return ["permiso_tramites", "certificados", "aviso_vencimiento"]
        return best(question)

    answer_every_step(visitor, v1, choose)
    visitor.submit()
    results = visitor.page
    assert "Versión del cuestionario: 1" in results
    # Its evidence list is version 1's: the v2-only practices are not in it.
    assert v1.fields["g_apoyo_tramites"].evidence[:40] in results
    assert newest.fields["g_permisos_en_tramite"].evidence[:40] not in results
    old_token = visitor.token

    response = client.post(f"/es/a/{old_token}/reassess", data={"csrf_token": visitor.csrf_token})
    visitor.follow(response)
    assert visitor.token != old_token
    carried = answers_of(app, newest.version)
    assert carried["legal_documentos_identidad"] == "nunca"  # v1 "si": the question flipped
    assert carried["ci_equidad_remuneraciones"] == "anual"  # v1 "4" on the old scale
    assert sorted(carried["g_permisos_en_tramite"]) == ["aviso_vencimiento", "certificados"]
    assert carried["g_apoyo_tramites"] == ["permiso_tramites"]  # the options that remain
    assert carried["legal_cotizaciones"] == "si"  # unchanged: kept as it was
    assert "g_informacion_seguridad" not in carried  # new: asked for the first time
    # The version 1 results still read as they did.
    again = client.get(f"/es/a/{old_token}/results").get_data(as_text=True)
    assert "Versión del cuestionario: 1" in again
    assert v1.fields["g_apoyo_tramites"].evidence[:40] in again
