"""The blank questionnaire on paper: every question, with its condition in words."""

from __future__ import annotations

from flask_babel import gettext as _

from .engine import conditions as c
from .i18n import format_percentage


def describe(condition, questionnaire, content) -> str:
    """`p_tipo == 'gremio' and p_dotacion > 25` -> words in the current language."""
    return _describe(condition.tree, questionnaire, content)


def _label(field, value, content) -> str:
    option = field.option_by_value.get(value)
    if option is not None and field.type == "yesno":
        return _("Yes") if value == "yes" else _("No")
    if option is not None:
        return content.option(field, option)
    if value == "dont_know":
        return _("I don't know")
    if value == "na":
        return _("Does not apply to us")
    return str(value)


def _describe(node, questionnaire, content) -> str:
    if isinstance(node, c.BoolOp):
        joiner = _(" and ") if node.op == "and" else _(" or ")
        return joiner.join(_describe(n, questionnaire, content) for n in node.operands)
    if isinstance(node, c.Not):
        return _("not (%(condition)s)", condition=_describe(node.operand, questionnaire, content))
    if not isinstance(node, c.Compare):
        return ""
    if isinstance(node.left, c.Product) or isinstance(node.right, c.Product):
        return _describe_share(node, questionnaire, content)
    if isinstance(node.right, c.Name) and isinstance(node.left, c.Literal):
        field = questionnaire.fields[node.right.name]
        words = {"question": content(field), "answer": _label(field, node.left.value, content)}
        if node.op == "in":
            return _("you chose “%(answer)s” in “%(question)s”", **words)
        return _("you did not choose “%(answer)s” in “%(question)s”", **words)
    field = questionnaire.fields[node.left.name]
    question = content(field)
    if isinstance(node.right, c.ListLiteral):
        answers = ", ".join(f"“{_label(field, v, content)}”" for v in node.right.values)
        if node.op == "in":
            return _(
                "your answer to “%(question)s” is one of %(answers)s",
                question=question,
                answers=answers,
            )
        return _(
            "your answer to “%(question)s” is none of %(answers)s",
            question=question,
            answers=answers,
        )
    value = node.right.value
    if field.type == "number":
        phrases = {
            "==": _("your answer to “%(question)s” is %(number)s"),
            "!=": _("your answer to “%(question)s” is not %(number)s"),
            "<": _("your answer to “%(question)s” is less than %(number)s"),
            "<=": _("your answer to “%(question)s” is %(number)s or less"),
            ">": _("your answer to “%(question)s” is more than %(number)s"),
            ">=": _("your answer to “%(question)s” is %(number)s or more"),
        }
        return phrases[node.op] % {"question": question, "number": value}
    answer = _label(field, value, content)
    if node.op == "==":
        return _("you answered “%(answer)s” to “%(question)s”", answer=answer, question=question)
    return _("you did not answer “%(answer)s” to “%(question)s”", answer=answer, question=question)


def _factors(side):
    """(field name, number) of `field * number` (or of a lone field, number 1)."""
    factors = side.factors if isinstance(side, c.Product) else (side,)
    names = [f.name for f in factors if isinstance(f, c.Name)]
    number = 1
    for factor in factors:
        if isinstance(factor, c.Literal):
            number *= factor.value
    return (names[0] if len(names) == 1 else None), number


def _describe_share(node, questionnaire, content) -> str:
    """`part * 100 > whole * 15` -> "“part” is more than 15 % of “whole”"."""
    (part, part_factor), (whole, whole_factor) = _factors(node.left), _factors(node.right)
    if part is None or whole is None or node.op not in SHARE_PHRASES or not part_factor:
        return _("a calculation with your numbers")
    return SHARE_PHRASES[node.op]() % {
        "part": content(questionnaire.fields[part]),
        "share": format_percentage(100 * whole_factor / part_factor),
        "whole": content(questionnaire.fields[whole]),
    }


SHARE_PHRASES = {
    ">": lambda: _(
        "your answer to “%(part)s” is more than %(share)s of your answer to “%(whole)s”"
    ),
    ">=": lambda: _(
        "your answer to “%(part)s” is at least %(share)s of your answer to “%(whole)s”"
    ),
    "<": lambda: _(
        "your answer to “%(part)s” is less than %(share)s of your answer to “%(whole)s”"
    ),
    "<=": lambda: _("your answer to “%(part)s” is at most %(share)s of your answer to “%(whole)s”"),
}
