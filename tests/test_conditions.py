"""The `when:` expression language."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine.conditions import UNANSWERED
from app.engine.conditions import UNKNOWN
from app.engine.conditions import ConditionError
from app.engine.conditions import parse


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("tipo == 'gremio'", {"tipo": "gremio"}, True),
        ("tipo == 'gremio'", {"tipo": "empresa"}, False),
        ("tipo != 'gremio'", {"tipo": "empresa"}, True),
        ("dotacion > 25", {"dotacion": 26}, True),
        ("dotacion > 25", {"dotacion": 25}, False),
        ("dotacion >= 10 and dotacion <= 49", {"dotacion": 10}, True),
        ("dotacion < 10 or tipo == 'gremio'", {"dotacion": 50, "tipo": "gremio"}, True),
        ("tipo in ['empresa', 'gremio']", {"tipo": "gremio"}, True),
        ("tipo not in ['empresa', 'gremio']", {"tipo": "gremio"}, False),
        ("'haiti' in nacionalidades", {"nacionalidades": frozenset({"haiti", "peru"})}, True),
        ("'haiti' in nacionalidades", {"nacionalidades": frozenset({"peru"})}, False),
        ("not (tipo == 'gremio')", {"tipo": "empresa"}, True),
        ("not tipo == 'gremio' and dotacion > 1", {"tipo": "empresa", "dotacion": 2}, True),
        ("(a == 'x' or b == 'y') and c == 'z'", {"a": "x", "b": "n", "c": "z"}, True),
        ("a == 1.5", {"a": 1.5}, True),
        ('tipo == "gremio"', {"tipo": "gremio"}, True),
    ],
)
def test_evaluate(text, values, expected):
    assert parse(text).evaluate(values) is expected


@pytest.mark.parametrize(
    "text",
    [
        "tipo == 'x'",
        "tipo != 'x'",
        "dotacion > 1",
        "tipo in ['x']",
        "tipo not in ['x']",
        "'x' in tipo",
    ],
)
def test_comparison_with_missing_value_is_false(text):
    assert parse(text).evaluate({}) is False
    assert parse(f"not ({text})").evaluate({}) is True


def test_partial_evaluation_is_kleene():
    condition = parse("tipo == 'gremio' and respuesta == 'si'")
    assert condition.evaluate_partially({"tipo": "empresa", "respuesta": UNKNOWN}) is False
    assert condition.evaluate_partially({"tipo": "gremio", "respuesta": UNKNOWN}) is UNKNOWN
    either = parse("tipo == 'gremio' or respuesta == 'si'")
    assert either.evaluate_partially({"tipo": "gremio", "respuesta": UNKNOWN}) is True
    assert parse("not (r == 'si')").evaluate_partially({"r": UNKNOWN}) is UNKNOWN
    assert parse("r == 'si'").evaluate_partially({"r": UNANSWERED}) is False


def test_names():
    assert parse("a == 'x' and (b > 2 or 'z' in c)").names == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("tipo ==", 8),
        ("tipo", 5),
        ("tipo == 'x' and", 16),
        ("(tipo == 'x'", 13),
        ("tipo == 'x' extra", 13),
        ("tipo = 'x'", 6),
        ("tipo in [a]", 10),
        ("__import__('os') == 1", 11),
    ],
)
def test_syntax_errors_have_a_column(text, column):
    with pytest.raises(ConditionError) as caught:
        parse(text)
    assert caught.value.column == column


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_condition_error(text):
    """Never anything but a ConditionError: the parser is total."""
    try:
        condition = parse(text)
    except ConditionError:
        return
    assert isinstance(condition.evaluate({}), bool)


def test_a_multiple_answered_with_a_special_value_holds_that_value():
    condition = parse("'na' in medidas")
    assert condition.evaluate({"medidas": "na"})
    assert not condition.evaluate({"medidas": frozenset({"facilitador"})})
    assert parse("'na' not in medidas").evaluate({"medidas": frozenset({"facilitador"})})


def test_products_compare_shares_without_division():
    share = parse("extranjeros * 100 > total * 15")
    assert share.evaluate({"extranjeros": 16, "total": 100})
    assert not share.evaluate({"extranjeros": 15, "total": 100})
    assert not share.evaluate({"total": 100})  # an unanswered factor: no value, false
    assert share.evaluate_partially({"extranjeros": UNKNOWN, "total": 100}) is UNKNOWN
    with pytest.raises(ConditionError, match="product must be compared"):
        parse("extranjeros * 100")
