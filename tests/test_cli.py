"""The command-line contract of DESIGN.md, exit code by exit code."""

from __future__ import annotations

import json

import pytest

from tests.conftest import readme_example


@pytest.fixture
def cli(make_app, example_dir):
    return make_app(QUESTIONNAIRES_DIR=str(example_dir)).test_cli_runner()


def run(cli, *args):
    return cli.invoke(args=list(args), catch_exceptions=False)


def write_answers(tmp_path, data, name="answers.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


def test_list(cli):
    result = run(cli, "questionnaire", "list")
    assert result.exit_code == 0
    assert "ejemplo\tv1\tes" in result.output


def test_list_json(cli):
    result = run(cli, "questionnaire", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert rows[0] == {
        "id": "ejemplo",
        "version": 1,
        "languages": rows[0]["languages"],
        "questions": 8,
    }
    assert rows[0]["languages"][0] == "es"


def test_validate_ok(cli, example_dir):
    result = run(cli, "questionnaire", "validate")
    assert result.exit_code == 0
    assert (
        run(cli, "questionnaire", "validate", str(example_dir / "ejemplo" / "v1.yaml")).exit_code
        == 0
    )


def test_validate_reports_every_error_and_exits_1(cli, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        readme_example()
        .replace("type: scale", "type: slider")
        .replace("points: {yes: 2, no: 0}", "points: {yes: 2}"),
        encoding="utf-8",
    )
    result = run(cli, "questionnaire", "validate", str(broken))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    expected = "responsable.type: unknown type 'slider'; use one of single, multiple, scale, yesno"
    assert any(expected in line for line in lines)  # noqa: E501
    assert any(":129: capacitacion.points.no: missing required field" in line for line in lines)
    assert all(line.startswith(f"{broken}:") for line in lines)


def test_validate_missing_file_exits_1(cli, tmp_path):
    result = run(cli, "questionnaire", "validate", str(tmp_path / "none.yaml"))
    assert result.exit_code == 1


def test_validate_duplicate_version(cli, example_dir, tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text(readme_example(), encoding="utf-8")
    result = run(
        cli, "questionnaire", "validate", str(example_dir / "ejemplo" / "v1.yaml"), str(copy)
    )
    assert result.exit_code == 1
    assert "version: ejemplo version 1 is also in" in result.output


def test_export_contract(cli):
    result = run(cli, "questionnaire", "export", "ejemplo")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert list(data) == ["id", "version", "languages", "profile", "dimensions", "levels"]
    assert data["profile"][0] == {"id": "tipo", "type": "single", "options": ["empresa", "gremio"]}
    legal, gestion, entorno = data["dimensions"]
    assert (legal["id"], legal["weight"]) == ("legal", 0)
    contrato = legal["questions"][0]
    assert contrato == {
        "id": "contrato_escrito",
        "type": "single",
        "knockout": True,
        "when": None,
        "allow_na": False,
        "options": [
            {"value": "si", "points": 1},
            {"value": "parcial", "points": 0.5},
            {"value": "no", "points": 0},
        ],
        "max_points": 1,
        "best": "si",
        "worst": "no",
    }
    apoyos = entorno["questions"][0]
    assert (apoyos["best"], apoyos["worst"], apoyos["max_points"]) == (
        ["idioma", "tramites", "familia"],
        ["ninguno"],
        2,
    )
    horas = gestion["questions"][2]
    assert (horas["when"], horas["best"], horas["worst"]) == ("capacitacion == 'yes'", 4, 0)
    assert data["levels"] == [
        {"id": "pendiente", "min": 0},
        {"id": "inicial", "min": 0},
        {"id": "preparada", "min": 60},
    ]


def test_export_version_and_unknown(cli):
    assert (
        json.loads(run(cli, "questionnaire", "export", "ejemplo", "--version", "1").output)[
            "version"
        ]
        == 1
    )
    for args in (("export", "nada"), ("export", "ejemplo", "--version", "9")):
        result = run(cli, "questionnaire", *args)
        assert result.exit_code == 2
        assert "unknown questionnaire" in result.output
        assert "Traceback" not in result.output


def test_score_contract(cli, tmp_path):
    export = json.loads(run(cli, "questionnaire", "export", "ejemplo").output)
    best = {q["id"]: q["best"] for d in export["dimensions"] for q in d["questions"]}
    path = write_answers(tmp_path, {"profile": {"tipo": "gremio", "dotacion": 30}, "answers": best})
    result = run(cli, "questionnaire", "score", "ejemplo", path)
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert {k: data[k] for k in CONTRACT_KEYS} == {
        "overall": 100,
        "level": "preparada",
        "dimensions": {"legal": 100, "gestion": 100, "entorno": 100},
        "knockouts_failed": [],
        "actions": [],
        "unanswered": [],
    }
    # Added this round: the top level has no next level; every commitment is in place.
    assert data["next_level"] is None
    assert data["commitments"] == {
        "C1": {"score": 100, "status": "in_place", "blocked": False},
        "C2": {"score": 100, "status": "in_place", "blocked": False},
    }
    assert {e["id"]: e["when"] for e in data["evidence"]} == {
        "contrato_escrito": "gather_now",
        "responsable": "gather_now",
    }
    assert data["verify"] == []


CONTRACT_KEYS = ("overall", "level", "dimensions", "knockouts_failed", "actions", "unanswered")


def test_score_names_what_the_next_level_needs(cli, tmp_path):
    answers = {
        "contrato_escrito": "si",
        "responsable": "1",
        "capacitacion": "yes",
        "capacitacion_horas": 8,
        "apoyos": ["idioma", "tramites"],
    }
    profile = {"tipo": "empresa", "dotacion": 3}
    path = write_answers(tmp_path, {"profile": profile, "answers": answers})
    data = json.loads(run(cli, "questionnaire", "score", "ejemplo", path, "--lang", "en").output)
    assert data["level"] == "inicial"
    assert data["next_level"]["id"] == "preparada"
    assert [(r["kind"], r["id"]) for r in data["next_level"]["unmet"]] == [
        ("practice", "responsable")
    ]
    assert data["next_level"]["unmet"][0]["text"].endswith("at least “Funciona en parte”")
    # Its action is for the next level, and it is the micro-firm's version.
    assert data["actions"][0]["id"] == "asumir_responsabilidad"


def test_score_says_overall_and_area_gaps_as_percentages(cli, tmp_path):
    answers = {"contrato_escrito": "si", "responsable": "2", "capacitacion": "no", "apoyos": "na"}
    path = write_answers(
        tmp_path, {"profile": {"tipo": "empresa", "dotacion": 3}, "answers": answers}
    )
    data = json.loads(run(cli, "questionnaire", "score", "ejemplo", path, "--lang", "es").output)
    assert data["level"] == "inicial"
    texts = {r["kind"]: r["text"] for r in data["next_level"]["unmet"]}
    assert texts["overall"] == "Preparación general de al menos 60% (ahora 50%)"
    # gestion 6/12 meets its 50 %; entorno has no points left (apoyos "na") and asks nothing.
    assert set(texts) == {"overall", "commitment"}
    assert "al menos en parte implementado" in texts["commitment"]


def test_score_refuses_answers_that_break_a_check(cli, tmp_path):
    profile = {"tipo": "empresa", "dotacion": 12, "extranjeros": 40}
    path = write_answers(tmp_path, {"profile": profile, "answers": {}})
    result = run(cli, "questionnaire", "score", "ejemplo", path)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "check extranjeros_en_total (extranjeros, dotacion):" in result.output


def test_score_hidden_answers_are_ignored_and_actions_listed(cli, tmp_path):
    answers = {"contrato_escrito": "no", "reglamento_interno": "no", "socios_orientados": "no"}
    path = write_answers(
        tmp_path, {"profile": {"tipo": "empresa", "dotacion": 3}, "answers": answers}
    )
    data = json.loads(run(cli, "questionnaire", "score", "ejemplo", path, "--lang", "es").output)
    assert data["knockouts_failed"] == ["contrato_escrito"]
    assert data["level"] == "pendiente"
    assert data["actions"][0] == {
        "id": "escriturar_contratos",
        "priority": "high",
        "text": "Escriture los contratos pendientes y entregue una copia a cada persona.",
    }
    assert "responsable" in data["unanswered"]
    assert "socios_orientados" not in data["unanswered"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ({"answers": {"contrato_escrito": "tal_vez"}}, "question contrato_escrito:"),
        ({"answers": {"inventada": "si"}}, "question inventada:"),
        ({"answers": {"capacitacion_horas": "diez"}}, "question capacitacion_horas:"),
        ({"profile": {"tipo": "municipio"}}, "question tipo:"),
        ("{not json", "not valid JSON"),
        ([1, 2], "must be"),
        ({"answers": [1]}, "must be JSON objects"),
    ],
)
def test_score_bad_input_exits_2_with_one_line(cli, tmp_path, content, needle):
    path = write_answers(tmp_path, content)
    result = run(cli, "questionnaire", "score", "ejemplo", path)
    assert result.exit_code == 2
    assert needle in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_score_unknown_language_and_missing_file(cli, tmp_path):
    path = write_answers(tmp_path, {"answers": {}})
    assert run(cli, "questionnaire", "score", "ejemplo", path, "--lang", "fr").exit_code == 2
    missing = run(cli, "questionnaire", "score", "ejemplo", str(tmp_path / "none.json"))
    assert missing.exit_code == 2


def test_publish_then_changing_the_file_fails_validation(make_app, tmp_path):
    directory = tmp_path / "questionnaires"
    (directory / "ejemplo").mkdir(parents=True)
    path = directory / "ejemplo" / "v1.yaml"
    path.write_text(readme_example(), encoding="utf-8")
    cli = make_app(QUESTIONNAIRES_DIR=str(directory)).test_cli_runner()
    assert run(cli, "questionnaire", "publish", str(path)).exit_code == 0
    assert run(cli, "questionnaire", "validate").exit_code == 0
    path.write_text(readme_example().replace("Gestión", "Gestión interna"), encoding="utf-8")
    result = run(cli, "questionnaire", "validate")
    assert result.exit_code == 1
    assert "ejemplo/v1.yaml:1: version: published version 1 was changed" in result.output


def test_publish_refuses_a_file_outside_the_questionnaires_directory(make_app, tmp_path):
    directory = tmp_path / "questionnaires"
    directory.mkdir()
    outside = tmp_path / "v1.yaml"
    outside.write_text(readme_example(), encoding="utf-8")
    cli = make_app(QUESTIONNAIRES_DIR=str(directory)).test_cli_runner()
    result = run(cli, "questionnaire", "publish", str(outside))
    assert result.exit_code == 1
    assert "file: must be inside the questionnaires directory" in result.output
    assert not (directory / "PUBLISHED.sha256").exists()
