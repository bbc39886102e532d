"""Cross-field checks: rules that answers must keep together (the questionnaire's
`checks:`), such as foreign staff <= total staff."""

from __future__ import annotations

from collections.abc import Mapping

from .conditions import UNKNOWN
from .model import Check
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
