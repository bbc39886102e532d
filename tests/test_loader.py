"""The loader reports every mistake as file:line: field: message."""

from __future__ import annotations

import textwrap
import time

import pytest
import yaml
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.engine import QuestionnaireError
from app.engine import load_text
from app.engine.yaml_lines import Loader
from tests.conftest import readme_example

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
        (
            """\
            - id: q2
              type: yesno
              text: Recurso sin idioma claro
              why: Para saber en qué idioma se lee.
              actions:
                - id: act
                  on: ["no"]
                  priority: high
                  text: Lea esto
                  resources:
                    - {title: Ley, url: "https://www.bcn.cl/leychile/navegar?idNorma=1", lang: ES}
            """,
            "q.yaml:32: q2.actions[0].resources[0].lang: must be the page's language codes",
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


# --- YAML aliases and shapes: every mistake a line, never a traceback (docs/SECURITY.md T22)

BILLION_LAUGHS = """\
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
id: [*i, *i, *i, *i, *i, *i, *i, *i, *i]
"""


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (BASE.replace("{extra}", "").replace("title: Prueba", "title: &t Prueba\nintro: *t"), 5),
        (
            with_question(
                """\
                - &q2 {id: q2, type: yesno, text: Copia}
                - <<: *q2
                  id: q3
                """
            ),
            23,
        ),
        ("x: &x [*x]\n", 1),
        (BILLION_LAUGHS, 2),
    ],
    ids=["alias", "merge-key-alias", "recursive", "billion-laughs"],
)
def test_yaml_aliases_are_refused(text, line):
    assert errors_of(text) == [f"q.yaml:{line}: yaml: aliases are not allowed"]


def q2(fields: str) -> str:
    """The base questionnaire with a yes/no question q2 written in one line."""
    return with_question("- {id: q2, type: yesno, " + fields + "}\n")


SECOND = "dimensions[0].questions[1]"


def test_billion_laughs_is_refused_quickly():
    started = time.perf_counter()
    errors_of(BILLION_LAUGHS.replace("[*i,", "[*i, *i, *i, *i, *i, *i, *i, *i, *i, *i,"))
    assert time.perf_counter() - started < 1


def test_a_merge_key_without_alias_is_an_error_with_a_line():
    text = with_question(
        """\
        - <<: {id: q2, type: yesno}
          text: Mezcla
        """
    )
    assert "q.yaml:22: yaml: merge keys (<<) are not allowed" in errors_of(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a list nested in a list, or a word, where a question (a mapping) is expected
        (with_question("- solo texto\n"), f"q.yaml:22: {SECOND}: expected a mapping"),
        (with_question("- [id, q2]\n"), f"q.yaml:22: {SECOND}: expected a mapping"),
        # a mapping where text is expected
        (q2("text: {a: 1}"), "q.yaml:22: q2.text: must be text"),
        # a list or a mapping as a mapping key
        (q2("text: T, [a]: 1"), "q.yaml:22: yaml: a key must"),
        (q2("text: T, {a: 1}: 1"), "q.yaml:22: yaml: a key must"),
        # a list where a commitment id is expected
        (
            q2("text: T, commitments: [[C1]]"),
            "q.yaml:22: q2.commitments: unknown commitment [",
        ),
        # a list or a mapping where an option value is expected
        (
            with_question(
                """\
                - id: q2
                  type: yesno
                  text: T
                  actions:
                    - {id: act, on: [["no"]], priority: high, text: Haga algo}
                    - {id: act2, on: [{a: 1}], priority: high, text: Haga algo}
                """
            ),
            "q.yaml:26: q2.actions[0].on: ['no'] is not an option of 'q2'",
        ),
        # infinite and undefined numbers
        (q2("text: T, weight: .inf"), "q.yaml:22: q2.weight: must be a number"),
        (q2("text: T, weight: .nan"), "q.yaml:22: q2.weight: must be a number"),
        # the wrong shape for whole blocks
        (BASE.replace("{extra}", "legal: [x]"), "q.yaml:22: legal: expected a mapping"),
        (BASE.replace("{extra}", "legal: texto"), "q.yaml:22: legal: expected a mapping"),
        (
            BASE.replace("{extra}", "commitment_thresholds: 75"),
            "q.yaml:22: commitment_thresholds: expected a mapping",
        ),
        (
            BASE.replace("{extra}", "").replace("dimensions:\n", "dimensions: 7\nx:\n"),
            "q.yaml:12: dimensions.dimensions: must be a list",
        ),
        ("- [1, 2]\n- 3\n", "q.yaml:1: questionnaire: expected a mapping"),
        ("just text\n", "q.yaml:1: questionnaire: expected a mapping"),
    ],
)  # fmt: skip
def test_wrong_shapes_are_errors_with_a_line(text, expected):
    errors = errors_of(text)
    assert any(error.startswith(expected) for error in errors), errors


def test_validate_reports_an_alias_as_one_line(tmp_path, runner):
    path = tmp_path / "v1.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    result = runner.invoke(args=["questionnaire", "validate", str(path)])
    assert result.exit_code == 1
    assert result.output.strip().endswith(":2: yaml: aliases are not allowed"), result.output


# --- Property: whatever shape the README example is bent into, validation reports it


def _paths(node, prefix=()):
    """Every place in a YAML tree, as the keys and indexes that lead to it."""
    yield prefix
    if isinstance(node, dict | list):
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            yield from _paths(child, (*prefix, key))


SCALARS = st.one_of(
    st.sampled_from(["", "x", "si", "no", "C1", "legal", "①", "<<", "*a", "&a", "~"]),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
)


def plain(node):
    """dicts and lists of the app's Loader (which keeps `yes` and `no` as text), for dumping."""
    if isinstance(node, dict):
        return {key: plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(value) for value in node]
    return node


def _reshaped(old):
    """The value at a place, or something of another shape: a scalar, a list, a list of
    lists, a mapping, the old value wrapped in a list or a mapping, a mapping as a list."""
    shapes = st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=3),
        ),
        max_leaves=6,
    )
    wrapped = [st.just([old]), st.just({"id": old}), st.just([[old]])]
    if isinstance(old, dict):
        wrapped += [st.just(list(old.items())), st.just(list(old.values()))]
    if isinstance(old, list):
        wrapped += [st.just({str(i): v for i, v in enumerate(old)})]
    return st.one_of(shapes, *wrapped)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_a_reshaped_readme_example_gives_errors_with_lines_never_a_traceback(data):
    tree = plain(yaml.load(readme_example(), Loader=Loader))  # the app's SafeLoader
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        path = data.draw(st.sampled_from(list(_paths(tree))[1:]), label="place")
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = data.draw(_reshaped(parent[path[-1]]), label="value")
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    try:
        load_text(text, "README.md")
    except QuestionnaireError as error:
        assert error.errors
        for e in error.errors:
            assert e.file == "README.md" and e.line >= 1 and e.field and e.message, e
