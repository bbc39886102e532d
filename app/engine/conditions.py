"""The `when:` expression language.

A condition is parsed once, when the questionnaire loads, into a small tree
that is evaluated against the profile and the answers given so far. Nothing
is ever passed to `eval`/`exec`.

Grammar (lowest precedence first)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := product [("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") product]
    product    := operand ("*" operand)*
    operand    := NAME | NUMBER | STRING | "[" literal ("," literal)* "]" | "(" expr ")"

A product multiplies numbers, so shares can be compared without division:
`p_extranjeros * 100 > p_total * 15` (more than 15 per cent).

A comparison involving a field with no value (not answered, or hidden) is
false, so `not` is the only way to make a missing value count as true.

`evaluate` gives True/False. `evaluate_partially` is three-valued: a name
bound to UNKNOWN makes the comparisons that use it UNKNOWN, and `and`/`or`/
`not` follow Kleene's logic. The engine uses it to tell whether a question
is hidden by the profile alone or by an answer.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

UNANSWERED = object()  # a field with no answer (not answered, or hidden)
UNKNOWN = object()

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\*)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in"}
COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"}


class ConditionError(ValueError):
    """A syntax error in a condition; `column` is 1-based."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Literal:
    value: object


@dataclass(frozen=True)
class ListLiteral:
    values: tuple


@dataclass(frozen=True)
class Compare:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Product:
    factors: tuple


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class Condition:
    """A parsed condition and the text it came from."""

    source: str
    tree: object

    @cached_property
    def names(self) -> frozenset[str]:
        """The fields it reads, found once: every page's checks read them."""
        return frozenset(_names(self.tree))

    def comparisons(self):
        """Yield every comparison node, for type checks at load time."""
        yield from _comparisons(self.tree)

    def evaluate(self, values: Mapping[str, object]) -> bool:
        return self._function(values) is True

    def evaluate_partially(self, values: Mapping[str, object]):
        """Return True, False or UNKNOWN."""
        return self._function(values)

    @cached_property
    def _function(self):
        """The tree as nested closures, built once: every journey evaluates it."""
        return _compiled(self.tree)


def _tokenize(text: str):
    tokens = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            column = len(text) - len(text[position:].lstrip()) + 1
            raise ConditionError(f"unexpected character {text[column - 1]!r}", column)
        kind = match.lastgroup
        value = match.group(kind)
        column = match.start(kind) + 1
        if kind == "name" and value in _KEYWORDS:
            kind = "keyword"
        tokens.append((kind, value, column))
        position = match.end()
    tokens.append(("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self, offset=0):
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def take(self):
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, value: str):
        kind, text, column = self.take()
        if text != value or kind not in ("op", "keyword"):
            raise ConditionError(
                f"expected {value!r}, found {text or 'end of condition'!r}", column
            )

    def parse(self):
        tree = self.or_expr()
        kind, text, column = self.peek()
        if kind != "end":
            raise ConditionError(f"unexpected {text!r}", column)
        return tree

    def or_expr(self):
        operands = [self.and_expr()]
        while self.peek()[:2] == ("keyword", "or"):
            self.take()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def and_expr(self):
        operands = [self.not_expr()]
        while self.peek()[:2] == ("keyword", "and"):
            self.take()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def not_expr(self):
        if self.peek()[:2] == ("keyword", "not") and self.peek(1)[1] != "in":
            self.take()
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self):
        left = self.product()
        kind, text, column = self.peek()
        if kind == "op" and text in COMPARISONS:
            self.take()
            return Compare(text, left, self.product())
        if (kind, text) == ("keyword", "in"):
            self.take()
            return Compare("in", left, self.product())
        if (kind, text) == ("keyword", "not") and self.peek(1)[:2] == ("keyword", "in"):
            self.take()
            self.take()
            return Compare("not in", left, self.product())
        if isinstance(left, Product):
            raise ConditionError("a product must be compared with a number", column)
        if isinstance(left, Name):
            raise ConditionError(
                f"{left.name!r} must be compared with something (for example {left.name} == 'x')",
                column,
            )
        return left

    def product(self):
        factors = [self.operand()]
        while self.peek()[:2] == ("op", "*"):
            self.take()
            factors.append(self.operand())
        return factors[0] if len(factors) == 1 else Product(tuple(factors))

    def operand(self):
        kind, text, column = self.take()
        if kind == "name":
            if text in ("true", "false"):
                return Literal(text == "true")
            return Name(text)
        if kind in ("number", "string"):
            return Literal(_literal(kind, text))
        if text == "(":
            tree = self.or_expr()
            self.expect(")")
            return tree
        if text == "[":
            values = []
            while True:
                item_kind, item_text, item_column = self.take()
                if item_kind not in ("number", "string"):
                    raise ConditionError("a list holds only numbers and 'strings'", item_column)
                values.append(_literal(item_kind, item_text))
                separator = self.take()
                if separator[1] == "]":
                    return ListLiteral(tuple(values))
                if separator[1] != ",":
                    raise ConditionError("expected ',' or ']' in list", separator[2])
        raise ConditionError(f"expected a name, a value or '(', found {text or 'end'!r}", column)


def _literal(kind: str, text: str):
    if kind == "string":
        return text[1:-1]
    return float(text) if "." in text else int(text)


def parse(text: str) -> Condition:
    """Parse a condition or raise ConditionError."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("a condition must be a non-empty string", 1)
    return Condition(text, _Parser(text).parse())


def _names(node):
    if isinstance(node, Name):
        yield node.name
    elif isinstance(node, Compare):
        yield from _names(node.left)
        yield from _names(node.right)
    elif isinstance(node, Product):
        for factor in node.factors:
            yield from _names(factor)
    elif isinstance(node, BoolOp):
        for operand in node.operands:
            yield from _names(operand)
    elif isinstance(node, Not):
        yield from _names(node.operand)


def _comparisons(node):
    if isinstance(node, Compare):
        yield node
    elif isinstance(node, BoolOp):
        for operand in node.operands:
            yield from _comparisons(operand)
    elif isinstance(node, Not):
        yield from _comparisons(node.operand)
    elif isinstance(node, Name | Literal):
        # A bare name or value where a condition is expected; the loader reports it.
        return


def _operand(node):
    """An operand as a function of the values: a field's value (UNANSWERED without
    one), a constant, a product, or a condition's result."""
    if isinstance(node, Name):
        name = node.name
        return lambda values: values.get(name, UNANSWERED)
    if isinstance(node, Literal):
        value = node.value
        return lambda values: value
    if isinstance(node, ListLiteral):
        members = frozenset(node.values)
        return lambda values: members
    if isinstance(node, Product):
        factors = [_operand(factor) for factor in node.factors]
        return lambda values: _multiply([factor(values) for factor in factors])
    return _compiled(node)


def _multiply(factors):
    if UNKNOWN in factors:
        return UNKNOWN
    if any(factor is UNANSWERED or not _is_number(factor) for factor in factors):
        return UNANSWERED  # a product of anything but numbers has no value
    result = 1
    for factor in factors:
        result *= factor
    return result


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _found(left, right) -> bool | None:
    """Whether `left` is in `right` (shares a member with it, for a set); None when
    `right` holds nothing to look in."""
    if isinstance(right, str):
        right = frozenset({right})  # a `multiple` answered "na" or "dont_know" holds just that
    if not isinstance(right, frozenset | set | tuple | list):
        return None
    return bool(left & right) if isinstance(left, frozenset) else left in right


def _equal(left, right) -> bool:
    if _is_number(left) and _is_number(right):
        return left == right
    return type(left) is type(right) and left == right


def _ordered(test):
    """An order comparison: false unless both sides are numbers."""
    return lambda left, right: _is_number(left) and _is_number(right) and test(left, right)


# What each comparison operator tests, for two values that both have one.
_TESTS = {
    "in": lambda left, right: _found(left, right) is True,
    "not in": lambda left, right: _found(left, right) is False,
    "==": _equal,
    "!=": lambda left, right: not _equal(left, right),
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
}


def _compiled(node):
    """A condition node as a function of the values giving True, False or UNKNOWN."""
    if isinstance(node, Compare):
        return _compiled_comparison(node.op, _operand(node.left), _operand(node.right))
    if isinstance(node, BoolOp):
        return _compiled_bool_op(node.op == "or", [_compiled(o) for o in node.operands])
    if isinstance(node, Not):
        operand = _compiled(node.operand)

        def negation(values):
            result = operand(values)
            return UNKNOWN if result is UNKNOWN else not result

        return negation
    result = node.value if isinstance(node, Literal) and isinstance(node.value, bool) else False
    return lambda values: result


def _compiled_comparison(op, left_operand, right_operand):
    test = _TESTS[op]

    def comparison(values):
        left = left_operand(values)
        right = right_operand(values)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if left is UNANSWERED or right is UNANSWERED:
            return False
        return test(left, right)

    return comparison


def _compiled_bool_op(decisive: bool, operands):
    """True decides an "or", False decides an "and"; else UNKNOWN if any operand is."""

    def bool_op(values):
        unknown = False
        for operand in operands:
            result = operand(values)
            if result is decisive:
                return decisive
            unknown = unknown or result is UNKNOWN
        return UNKNOWN if unknown else not decisive

    return bool_op
