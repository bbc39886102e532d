"""Art. 20 of the Código del Trabajo: who counts as Chilean staff."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.engine.calculators import CalculatorError
from app.engine.calculators import art20


def test_long_term_residents_and_chilean_families_count_as_chilean():
    # 100 staff, 5 specialists left out; 30 foreign of whom 10 have Chilean family
    # and 12 have lived here over five years: 8 count as foreign of 95.
    result = art20(100, 5, 30, 10, 12)
    assert result.counted_staff == 95
    assert result.counted_as_foreign == 8
    assert result.meets_rule  # 87/95 = 91.6 %


def test_below_the_rule():
    result = art20(40, 0, 10, 0, 0)
    assert result.chilean_share == pytest.approx(0.75)
    assert not result.meets_rule


def test_exactly_85_percent_meets_the_rule():
    assert art20(100, 0, 15, 0, 0).meets_rule
    assert not art20(100, 0, 16, 0, 0).meets_rule


@pytest.mark.parametrize(
    ("numbers", "field"),
    [
        ((10, 11, 0, 0, 0), "specialists"),
        ((10, 5, 6, 0, 0), "foreign"),
        ((10, 0, 5, 3, 3), "resident_5_years"),
        ((5, 5, 0, 0, 0), "specialists"),
    ],
)
def test_impossible_numbers(numbers, field):
    with pytest.raises(CalculatorError) as caught:
        art20(*numbers)
    assert caught.value.field == field


@given(st.integers(1, 10_000), st.data())
def test_share_is_a_proportion(total, data):
    specialists = data.draw(st.integers(0, total - 1))
    foreign = data.draw(st.integers(0, total - specialists))
    family = data.draw(st.integers(0, foreign))
    resident = data.draw(st.integers(0, foreign - family))
    result = art20(total, specialists, foreign, family, resident)
    assert 0 <= result.chilean_share <= 1
    # Recognising more long-term residents never lowers the share.
    if resident + family < foreign:
        assert art20(total, specialists, foreign, family, resident + 1).chilean_share >= (
            result.chilean_share
        )


def test_no_staff_names_the_total():
    with pytest.raises(CalculatorError) as caught:
        art20(0, 0, 0, 0, 0)
    assert caught.value.field == "total"
