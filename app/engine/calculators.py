"""Calculators shown beside a question to help answer it.

`art20`: the share of Chilean staff under Código del Trabajo arts. 19-20.
Art. 19 asks for at least 85 % Chilean staff when an employer has more than
25 workers. Art. 20 says how to count: the employer's whole staff in Chile
(not branch by branch); technical specialists are left out (since Ley 20.448
of 2010, whether or not a Chilean could replace them); and these foreigners
count as Chilean: those whose spouse, civil partner or children are Chilean,
the widowed spouses of Chileans, and those resident in Chile for more than
five years. Most long-term migrant staff therefore count as Chilean.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

CALCULATORS = ("art20",)
ART20_MINIMUM_SHARE = Fraction(85, 100)


class CalculatorError(ValueError):
    """Numbers that cannot describe a real staff; `field` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Art20Result:
    counted_staff: int  # total minus technical specialists
    counted_as_foreign: int
    chilean_share: Fraction
    meets_rule: bool


def art20(
    total: int, specialists: int, foreign: int, chilean_family: int, resident_5_years: int
) -> Art20Result:
    """Apply art. 20's counting rules.

    `foreign` counts foreign staff who are not technical specialists; among them,
    `chilean_family` and `resident_5_years` are disjoint groups (each person once).
    """
    if total == 0:
        raise CalculatorError("total", "no staff")
    if specialists > total:
        raise CalculatorError("specialists", "more specialists than staff")
    if specialists + foreign > total:
        raise CalculatorError("foreign", "more foreign staff than staff who are not specialists")
    if chilean_family + resident_5_years > foreign:
        raise CalculatorError(
            "resident_5_years", "the two groups add up to more than the foreign staff"
        )
    counted = total - specialists
    if counted == 0:
        raise CalculatorError("specialists", "no staff left to count")
    as_foreign = foreign - chilean_family - resident_5_years
    share = Fraction(counted - as_foreign, counted)
    return Art20Result(counted, as_foreign, share, share >= ART20_MINIMUM_SHARE)
