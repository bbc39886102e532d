"""The follow-up proof: no better answer may hide a question that counts.

A follow-up hidden by an answer earns 0 while its points stay possible; if a
*better* answer could hide a follow-up that earns points, raising one answer
could lower a score. Every combination of the answers a condition reads is
tried (MAX_COMBINATIONS at most).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from fractions import Fraction

from . import conditions
from .conditions import UNANSWERED
from .model import CHOICE_TYPES
from .model import DONT_KNOW
from .model import NOT_APPLICABLE
from .model import Question

# Beyond this many answer combinations a condition is too complex to prove.
MAX_COMBINATIONS = 50_000


def check_follow_ups(
    fields: dict[str, Question], referenced: set[str]
) -> Iterator[tuple[Question, str]]:
    """Yield (question, problem) for each follow-up a better answer could hide;
    `referenced` holds the ids other conditions read, which count as well."""
    for question in fields.values():
        if question.when is None or question.section == "profile":
            continue
        answer_names = [
            name for name in sorted(question.when.names) if fields[name].section != "profile"
        ]
        if not answer_names or not (question.scored or question.id in referenced):
            continue
        names = sorted(question.when.names)
        numbers = _numbers(question.when)
        states = {name: _states(fields[name], numbers) for name in names}
        if math.prod(len(states[name]) for name in names) > MAX_COMBINATIONS:
            yield question, "condition too complex to check; split it into simpler follow-ups"
            continue
        problem = _find_hiding_raise(question, names, answer_names, states)
        if problem:
            name, before, after = problem
            yield (
                question,
                (
                    f"a better answer to {name!r} ({_show(before)} -> {_show(after)}) hides "
                    "this question, so raising an answer could lower the score; show "
                    "follow-ups that count for better answers, or give them no points"
                ),
            )


def constants(node) -> list:
    """The constant values a condition operand holds: none for a field name."""
    if isinstance(node, conditions.Literal):
        return [node.value]
    if isinstance(node, conditions.ListLiteral):
        return list(node.values)
    return []


def _numbers(condition) -> set:
    """The numbers a condition compares with: where a number field's points may change."""
    values = set()
    for node in condition.comparisons():
        for side in (node.left, node.right):
            values.update(
                v for v in constants(side) if isinstance(v, int | float) and not isinstance(v, bool)
            )
    return values


def _states(field: Question, compared: set) -> list[tuple[object, Fraction | None]]:
    """Every distinguishable value of a field, with its points (None for `na`)."""
    lowest = Fraction(-1)  # unanswered: any answer is a raise from here
    states: list[tuple[object, Fraction | None]] = [(UNANSWERED, lowest)]
    if field.type in CHOICE_TYPES:
        states += [(o.value, o.points) for o in field.options]
    elif field.type == "multiple":
        values = [o.value for o in field.options if not o.exclusive]
        for size in range(len(values) + 1):
            for subset in itertools.combinations(values, size):
                states.append((frozenset(subset), field.points(subset)))
        states += [(frozenset([o.value]), o.points) for o in field.options if o.exclusive]
    elif field.type == "number":
        numbers = {0}
        for constant in compared | {band.min for band in field.bands}:
            numbers |= {constant - 1, constant, constant + 1}
        states += [(n, field.points(n)) for n in sorted(numbers)]
    if field.dont_know:
        states.append((DONT_KNOW, Fraction(0)))
    if field.allow_na:
        states.append((NOT_APPLICABLE, None))
    return states


def _find_hiding_raise(question, names, answer_names, states):
    """The first (name, before, after) where the question shows with `before`
    and a raise to an answer worth at least as much, `after`, hides it."""
    for combination in itertools.product(*(states[name] for name in names)):
        values = {
            name: value
            for name, (value, _) in zip(names, combination, strict=True)
            if value is not UNANSWERED
        }
        if not question.when.evaluate(values):
            continue
        for name in answer_names:
            before, before_points = combination[names.index(name)]
            if before_points is None:
                continue
            for after, after_points in states[name]:
                if after_points is None or after_points < before_points or after is UNANSWERED:
                    continue
                changed = dict(values)
                changed[name] = after
                if not question.when.evaluate(changed):
                    return name, before, after
    return None


def _show(value) -> str:
    if value is UNANSWERED:
        return "unanswered"
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(value)) + "]"
    return repr(value)
