"""The loader reports every mistake as file:line: field: message."""

from __future__ import annotations

import textwrap

import pytest

from app.engine import QuestionnaireError
from app.engine import load_text

BASE = """\
id: prueba
version: 1
language: es
title: Prueba
profile:
  - id: tipo
    type: single
    text: Tipo
    options:
      - {value: empresa, label: Empresa}
      - {value: gremio, label: Gremio}
dimensions:
  - id: gestion
    title: Gestión
    questions:
      - id: q1
        type: single
        text: Pregunta uno
        options:
          - {value: si, label: Sí, points: 1}
          - {value: "no", label: "No", points: 0}
{extra}
levels:
  - id: bajo
    title: Bajo
  - id: alto
    title: Alto
    min: 50
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as caught:
        load_text(text, "q.yaml")
    return [str(e) for e in caught.value.errors]


def with_question(body: str) -> str:
    return BASE.replace("{extra}", textwrap.indent(textwrap.dedent(body), "      "))


def test_valid_base_loads():
    questionnaire = load_text(with_question(""), "q.yaml")
    assert [q.id for q in questionnaire.questions] == ["q1"]


def test_readme_example_loads(example):
    assert example.id == "ejemplo"
    assert [d.id for d in example.dimensions] == ["legal", "gestion", "entorno"]
    assert example.dimensions[0].weight == 0
    assert all(q.knockout for q in example.dimensions[0].questions)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            """\
            - id: q1
              type: yesno
              text: Otra vez
            """,
            "q.yaml:22: q1.id: duplicate question id 'q1' (first on line 16)",
        ),
        (
            """\
            - id: q2
              type: slider
              text: Tipo desconocido
            """,
            "q.yaml:23: q2.type: unknown type 'slider'",
        ),
        (
            """\
            - id: q2
              type: single
              text: Sin puntos
              options:
                - {value: a, label: A}
                - {value: b, label: B, points: 1}
            """,
            "q.yaml:26: q2.options[0].points: missing points",
        ),
        (
            """\
            - id: q2
              type: single
              text: Acción con opción desconocida
              options:
                - {value: a, label: A, points: 0}
                - {value: b, label: B, points: 1}
              actions:
                - id: act
                  on: [c]
                  priority: high
                  text: Haga algo
            """,
            "q.yaml:30: q2.actions[0].on: 'c' is not an option of 'q2'",
        ),
        (
            """\
            - id: q2
              type: yesno
              text: Condición con campo desconocido
              when: tamano > 10
            """,
            "q.yaml:25: q2.when: unknown field 'tamano'",
        ),
        (
            """\
            - id: q2
              type: yesno
              text: Condición sobre una pregunta posterior
              when: q3 == 'yes'
            - id: q3
              type: yesno
              text: Después
            """,
            "q.yaml:25: q2.when: 'q3' comes later; a condition may only use earlier questions",
        ),
        (
            """\
            - id: q2
              type: yesno
              text: Error de sintaxis
              when: tipo == = 'x'
            """,
            "q.yaml:25: q2.when: column 9: unexpected character '='",
        ),
        (
            """\
            - id: q2
              type: yesno
              text: Valor que no es opción
              when: tipo == 'empresa_grande'
            """,
            "q.yaml:25: q2.when: 'empresa_grande' is not an option of 'tipo'",
        ),
        (
            """\
            - id: q2
              type: yesno
              text: Seguimiento oculto por una mejor respuesta
              when: q1 == 'no'
            """,
            "q.yaml:22: q2.when: a better answer to 'q1' ('no' -> 'si') hides this question",
        ),
        (
            """\
            - id: q2
              type: single
              text: Puntos negativos
              options:
                - {value: a, label: A, points: -1}
                - {value: b, label: B, points: 1}
            """,
            "q.yaml:26: q2.options[0].points: must be at least 0",
        ),
        (
            """\
            - id: q2
              type: yesno
              text: Campo desconocido
              colour: red
            """,
            "q.yaml:25: q2.colour: unknown field",
        ),
        (
            """\
            - id: q2
              type: text
              text: Knock-out sin puntos
              knockout: true
            """,
            "q.yaml:25: q2.knockout: a knock-out question needs points",
        ),
        (
            """\
            - id: q2
              type: yesno
              text: Recurso inseguro
              actions:
                - id: act
                  on: ["no"]
                  priority: high
                  text: Lea esto
                  resources:
                    - {title: Malo, url: "javascript:alert(1)"}
            """,
            "q.yaml:31: q2.actions[0].resources[0].url: must be an http(s) address",
        ),
    ],
)
def test_each_error_kind_names_file_line_and_field(body, expected):
    assert any(error.startswith(expected) for error in errors_of(with_question(body))), errors_of(
        with_question(body)
    )


def test_levels_out_of_order():
    text = with_question("").replace(
        "    min: 50\n", "    min: 50\n  - id: medio\n    title: M\n    min: 30\n"
    )
    assert "q.yaml:31: levels[2].min: levels out of order: 30 is below the previous level's 50" in (
        errors_of(text)
    )


def test_duplicate_yaml_key_is_reported():
    text = BASE.replace("{extra}", "").replace("title: Prueba\n", "title: Prueba\ntitle: Otra\n")
    assert "q.yaml:5: title: duplicate key" in errors_of(text)


def test_every_mistake_is_reported_at_once():
    body = """\
    - id: q2
      type: slider
      text: Uno
    - id: q3
      type: yesno
      text: Dos
      when: nada == 1
    - id: q4
      type: single
      text: Tres
      options:
        - {value: a, label: A}
        - {value: b, label: B}
    """
    errors = errors_of(with_question(body))
    assert len(errors) >= 4
    assert all(error.startswith("q.yaml:") for error in errors)


def test_yaml_syntax_error_has_a_line():
    assert errors_of("id: x\nversion: [1\n")[0].startswith("q.yaml:3: yaml:")


def test_yes_and_no_stay_strings():
    """YAML 1.1 reads an unquoted `no` as false; option values must stay text."""
    text = with_question(
        """\
        - id: q2
          type: single
          text: Sin comillas
          options:
            - {value: yes, label: Sí, points: 1}
            - {value: no, label: No, points: 0}
          actions:
            - id: act
              on: [no]
              priority: low
              text: Haga algo
        """
    )
    question = load_text(text).fields["q2"]
    assert [o.value for o in question.options] == ["yes", "no"]
    assert question.actions[0].on == ("no",)
