"""Cross-field checks: rules that answers must keep together (the questionnaire's
`checks:`), such as foreign staff <= total staff; and an answer that says the
opposite of the calculator shown beside its question."""

from __future__ import annotations

from collections.abc import Mapping

from .conditions import UNKNOWN
from .model import Check
from .model import Question
from .model import Questionnaire


def failed_checks(questionnaire: Questionnaire, values: Mapping) -> list[Check]:
    """The checks these values break. A check with a field not answered yet waits:
    it fails only when what is known already makes it false."""
    failed = []
    for check in questionnaire.checks:
        known = {name: values[name] if name in values else UNKNOWN for name in check.when.names}
        if check.when.evaluate_partially(known) is False:
            failed.append(check)
    return failed


def contradicts_calculation(question: Question, answer, meets_rule: bool) -> bool:
    """An answer to a calculator's question that says the opposite of the calculation:
    full points though the rule is not met, or none though it is. Answers in between
    ("we believe so, not calculated"), "don't know" and "does not apply" say neither."""
    option = question.option_by_value.get(answer)
    if option is None:
        return False
    return option.points == 0 if meets_rule else option.points == question.max_points
