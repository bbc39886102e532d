"""A questionnaire version as an XLSForm workbook, for ODK Collect and KoboCollect.

One `survey` row per question, grouped by section (the profile, then each dimension),
one `choices` list per question, and `settings` with the questionnaire's id and
version. Every text has a column per language (`label::Español (es)`, ...). Conditions
become `relevant` expressions, the web's field rules and cross-field checks become
`constraint`s with the web's translated messages.

A question the questionnaire rewords for some profiles (`reworded:`) has two rows: its
first form, and its other form named `<id>__reworded`; each is relevant only where the
journey would ask it in that form, and the import reads either back as the question.
"""

from __future__ import annotations

import re
from io import BytesIO

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from ..assess.forms import SharingForm
from ..assess.forms import missing_answer_message
from ..assess.forms import option_choices
from ..assess.forms import section_form
from ..assess.forms import special_choices
from ..engine import conditions as c
from ..engine.model import DONT_KNOW
from ..engine.model import NOT_APPLICABLE
from ..engine.model import PROFILE
from ..engine.model import REWORDED
from ..forms import at_most
from ..i18n import content_for
from ..i18n import in_language
from ..i18n import language_name
from ..markdown import EMPHASIS
from ..markdown import STRONG

REWORDED_SUFFIX = f"__{REWORDED}"
# Two questions before the profile: who answers (the label of the links and cards) and,
# in a campaign, what the association may see. Named as the web's sharing form names them.
MEMBER_NAME = "member_name"
SHARING = "sharing"
PROFILE_TITLE = _l("About your organisation")
TYPES = {
    "single": "select_one",
    "scale": "select_one",
    "yesno": "select_one",
    "multiple": "select_multiple",
    "number": "integer",
    "text": "text",
}


class XLSFormError(ValueError):
    """Something of the questionnaire XLSForm cannot say; names the question."""


def column_language(lang: str) -> str:
    """How a language is named in XLSForm columns: `Español (es)`."""
    return f"{language_name(lang)} ({lang})"


# --- Text ---------------------------------------------------------------------

# The questionnaire's markdown (app/markdown.py): links, **strong**, *emphasis*,
# paragraphs. ODK renders the same marks; every other markdown character is escaped.
RAW_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)<>\"']{1,500})\)")
MARKUP = re.compile("|".join(f"(?:{p.pattern})" for p in (RAW_LINK, STRONG, EMPHASIS)))
ESCAPED = re.compile(r"([\\*_#\[\]`<>])")


def form_text(text: str) -> str:
    """Questionnaire text as an XLSForm label or hint renders it."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n\n".join(_inline(p) for p in paragraphs)


def _inline(paragraph: str) -> str:
    pieces, position = [], 0
    for match in MARKUP.finditer(paragraph):
        pieces.append(_escape(paragraph[position : match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(_escape(paragraph[position:]))
    return "".join(pieces)


def _escape(text: str) -> str:
    # `${name}` is a reference in XLSForm: a text never makes one.
    return ESCAPED.sub(r"\\\1", text).replace("${", "$ {")


# --- Conditions -----------------------------------------------------------------


class XPath:
    """The engine's conditions (app/engine/conditions.py) as XPath over the form's
    fields. `relevant` keeps the two-valued rule of `when:` (a comparison with an
    unanswered field is false); `never_false` the three-valued rule of checks (a
    check waits until every field it names is answered)."""

    def __init__(self, fields: dict, owner: str):
        self.fields = fields
        self.owner = owner  # the question or check, for the error message

    def fail(self, why: str):
        raise XLSFormError(f"{self.owner}: the condition cannot be written in XLSForm: {why}")

    def ref(self, name: str) -> str:
        question = self.fields.get(name)
        if question is None:
            self.fail(f"unknown field {name!r}")
        if question.reworded is None:
            return f"${{{name}}}"
        # Only the form the journey asks holds the answer.
        asked = self.relevant(question.reworded.when)  # profile fields only: never reworded
        return f"if({asked}, ${{{name}{REWORDED_SUFFIX}}}, ${{{name}}})"

    def relevant(self, condition) -> str:
        return self._true(condition.tree, two_valued=True)

    def never_false(self, condition) -> str:
        return f"not({self._false(condition.tree)})"

    def _true(self, node, two_valued=False) -> str:
        if isinstance(node, c.BoolOp):
            parts = [self._true(o, two_valued) for o in node.operands]
            return "(" + f" {node.op} ".join(parts) + ")"
        if isinstance(node, c.Not):
            if two_valued:  # a missing value makes the inner comparison false, so this true
                return f"not({self._true(node.operand, True)})"
            return self._false(node.operand)
        if isinstance(node, c.Literal) and isinstance(node.value, bool):
            return "true()" if node.value else "false()"
        if isinstance(node, c.Compare):
            return self._guarded(node, self._compare(node))
        self.fail("a bare value where a comparison is expected")

    def _false(self, node) -> str:
        """Definitely false: every field it reads is answered, and it does not hold."""
        if isinstance(node, c.BoolOp):
            parts = [self._false(o) for o in node.operands]
            joiner = " or " if node.op == "and" else " and "
            return "(" + joiner.join(parts) + ")"
        if isinstance(node, c.Not):
            return self._true(node.operand)
        if isinstance(node, c.Literal) and isinstance(node.value, bool):
            return "false()" if node.value else "true()"
        if isinstance(node, c.Compare):
            return self._guarded(node, f"not({self._compare(node)})")
        self.fail("a bare value where a comparison is expected")

    def _guarded(self, node, expression: str) -> str:
        names = sorted(c.Condition("", node).names)
        guards = [f"string-length({self.ref(name)}) > 0" for name in names]
        return "(" + " and ".join([*guards, expression]) + ")"

    def _compare(self, node) -> str:
        op, left, right = node.op, node.left, node.right
        if op in ("in", "not in"):
            found = self._member(left, right)
            return found if op == "in" else f"not({found})"
        if op in ("==", "!="):
            equal = self._equal(left, right)
            return equal if op == "==" else f"not({equal})"
        return f"{self._number(left)} {op} {self._number(right)}"

    def _kind(self, node) -> str:
        if isinstance(node, c.Name):
            question = self.fields.get(node.name)
            if question is None:
                self.fail(f"unknown field {node.name!r}")
            return {"multiple": "set", "number": "number"}.get(question.type, "text")
        if isinstance(node, c.Literal) and not isinstance(node.value, bool):
            return "number" if isinstance(node.value, int | float) else "text"
        if isinstance(node, c.Product):
            return "number"
        return "other"

    def _value(self, node) -> str:
        if isinstance(node, c.Name):
            return self.ref(node.name)
        if isinstance(node, c.Literal) and isinstance(node.value, str):
            if "'" in node.value:
                self.fail(f"a value with a quote ({node.value!r})")
            return f"'{node.value}'"
        if isinstance(node, c.Literal) and not isinstance(node.value, bool):
            return repr(node.value)
        if isinstance(node, c.Product):
            return " * ".join(self._number(factor) for factor in node.factors)
        self.fail("an operand other than a field, a number or a text")

    def _number(self, node) -> str:
        if self._kind(node) != "number":
            self.fail("an order comparison of something that is not a number")
        return self._value(node)

    def _equal(self, left, right) -> str:
        kinds = {self._kind(left), self._kind(right)}
        if kinds == {"set", "text"}:
            # A `multiple` equals a text only when it holds just "na" or "dont_know".
            literal = right if isinstance(right, c.Literal) else left
            if not isinstance(literal, c.Literal):
                self.fail("a multiple-choice field compared with another field")
            if literal.value not in (NOT_APPLICABLE, DONT_KNOW):
                return "false()"
        elif len(kinds) != 1 or kinds & {"set", "other"}:
            self.fail("a comparison of values of different kinds")
        return f"{self._value(left)} = {self._value(right)}"

    def _member(self, left, right) -> str:
        if isinstance(right, c.ListLiteral):
            if self._kind(left) == "set":
                values = [self._value(c.Literal(v)) for v in right.values]
                return (
                    "(" + " or ".join(f"selected({self.ref(left.name)}, {v})" for v in values) + ")"
                )
            if self._kind(left) not in ("text", "number"):
                self.fail("'in' a list of something that is not a field")
            checks = [self._equal(left, c.Literal(v)) for v in right.values]
            return "(" + " or ".join(checks) + ")"
        if not (isinstance(right, c.Name) and isinstance(left, c.Literal)):
            self.fail("'in' with something other than a list or a field")
        kind = self._kind(right)
        if kind == "set":
            return f"selected({self.ref(right.name)}, {self._value(left)})"
        if kind == "text":
            return self._equal(right, left)
        return "false()"  # nothing is in a number


# --- The workbook -------------------------------------------------------------


def web_message(question, content, posted: list[str]) -> str:
    """The message the web's field for `question` gives these posted values: the
    form speaks with the journey's own words."""
    formdata = MultiDict([(question.id, value) for value in posted])
    form = section_form([question], content, {}, formdata=formdata, meta={"csrf": False})
    form.validate()
    return str(form[question.id].errors[0])


def xlsform(questionnaire, languages: list[str]) -> bytes:
    """The XLSForm workbook (.xlsx) of a questionnaire version in these languages, the
    questionnaire's own language first. Raises XLSFormError naming the question when
    something cannot be said in XLSForm."""
    from openpyxl import Workbook  # here: ~16 MB a web worker loads only when it needs it

    form = FormSheets(questionnaire, languages)
    book = Workbook()
    book.remove(book.active)
    for title, rows in (("survey", form.survey), ("choices", form.choices)):
        _sheet(book, title, rows)
    _sheet(book, "settings", [form.settings()])
    output = BytesIO()
    book.save(output)
    return output.getvalue()


def _sheet(book, title: str, rows: list[dict]) -> None:
    sheet = book.create_sheet(title)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column, "") for column in columns])


class FormSheets:
    """The rows of the `survey` and `choices` sheets. The import reads its names and
    labels back, so a file exported with labels maps to questions by the same texts."""

    def __init__(self, questionnaire, languages: list[str]):
        self.questionnaire = questionnaire
        self.languages = languages
        self.contents = {lang: content_for(questionnaire, lang) for lang in languages}
        self.survey: list[dict] = []
        self.choices: list[dict] = []
        self._check_names()
        self._front()
        self._group(PROFILE, self._each(lambda _c: str(PROFILE_TITLE)), questionnaire.profile)
        for dimension in questionnaire.dimensions:
            titles = self._each(lambda content, d=dimension: form_text(content(d, "title")))
            self._group(dimension.id, titles, dimension.questions)

    def settings(self) -> dict:
        q = self.questionnaire
        return {
            "form_title": self.contents[self.languages[0]](q, "title"),
            "form_id": q.id,
            "version": str(q.version),
            "default_language": column_language(self.languages[0]),
        }

    def _check_names(self):
        q = self.questionnaire
        taken = {MEMBER_NAME, SHARING, PROFILE, *(d.id for d in q.dimensions)}
        for question in (*q.profile, *q.questions):
            names = [question.id] + ([question.id + REWORDED_SUFFIX] if question.reworded else [])
            for name in names:
                if name in taken:
                    raise XLSFormError(
                        f"{question.id}: the name {name!r} is used twice in the form"
                    )
                taken.add(name)

    def _each(self, text) -> dict:
        """`text(content)` in each language, with the UI in that language too."""
        found = {}
        for lang, content in self.contents.items():
            with in_language(lang):
                found[lang] = text(content)
        return found

    def _texts(self, row: dict, column: str, by_language: dict) -> None:
        if any(by_language.values()):
            for lang in self.languages:
                row[f"{column}::{column_language(lang)}"] = by_language[lang]

    def _front(self):
        """Who answers, and what a campaign's association may see (the web's sharing form)."""
        name_row = {"type": "text", "name": MEMBER_NAME}
        share_row = {"type": f"select_one {SHARING}", "name": SHARING, "default": "aggregate"}
        labels, choices = {}, {}
        for lang in self.languages:
            with in_language(lang):
                form = SharingForm(formdata=None, meta={"csrf": False})
                labels[lang] = (form.member_name.label.text, form.sharing.label.text)
                choices[lang] = [(c.value, str(c.label)) for c in form.sharing.choices]
                name_row[f"constraint_message::{column_language(lang)}"] = str(
                    at_most(200).message
                ) % {"max": 200}
        name_row["constraint"] = "string-length(.) <= 200"
        self._texts(name_row, "label", {lang: str(pair[0]) for lang, pair in labels.items()})
        self._texts(share_row, "label", {lang: str(pair[1]) for lang, pair in labels.items()})
        self.survey += [name_row, share_row]
        self._choice_rows(SHARING, choices)

    def _choice_rows(self, list_name: str, choices: dict) -> None:
        first = choices[self.languages[0]]
        for index, (value, _label) in enumerate(first):
            row = {"list_name": list_name, "name": value}
            self._texts(row, "label", {lang: choices[lang][index][1] for lang in self.languages})
            self.choices.append(row)

    def _group(self, name: str, labels: dict, questions) -> None:
        begin = {"type": "begin_group", "name": name}
        self._texts(begin, "label", labels)
        self.survey.append(begin)
        for question in questions:
            if question.reworded is None:
                self._question(question, question, question.id)
                continue
            self._question(question, question, question.id, reworded=False)
            name = question.id + REWORDED_SUFFIX
            self._question(question, question.reworded_form, name, reworded=True)
        self.survey.append({"type": "end_group", "name": name})

    def _question(self, question, asked, name, reworded=None):
        """One row: `asked` is the form the question is put in; `reworded` says which of
        two forms this row is (None: the question has one)."""
        fields = self.questionnaire.fields
        row = {"type": TYPES[question.type], "name": name}
        if question.type in ("single", "scale", "yesno", "multiple"):
            row["type"] += f" {name}"
            self._choice_rows(name, self._each(lambda content: self._choices(asked, content)))
        self._texts(row, "label", self._each(lambda content: self._label(asked, content)))
        self._texts(row, "hint", self._each(lambda content: form_text(content(asked, "help"))))
        if question.required:
            row["required"] = "yes"
            self._texts(
                row, "required_message", self._each(lambda _c: missing_answer_message(question))
            )
        relevant = []
        if question.when is not None:
            relevant.append(XPath(fields, question.id).relevant(question.when))
        if reworded is not None:
            asked_so = XPath(fields, question.id).relevant(question.reworded.when)
            relevant.append(asked_so if reworded else f"not({asked_so})")
        if relevant:
            row["relevant"] = " and ".join(relevant)
        self._constraints(row, asked)
        self.survey.append(row)

    @staticmethod
    def _label(asked, content) -> str:
        label = form_text(content(asked))
        unit = content(asked, "unit")
        return f"{label} ({unit})" if unit else label

    @staticmethod
    def _choices(asked, content) -> list[tuple[str, str]]:
        choices = option_choices(asked, content) + special_choices(asked)
        return [(value, form_text(str(label))) for value, label in choices]

    def _constraints(self, row: dict, question) -> None:
        """The web's rules for one field, with its messages, and the checks that name it."""
        rules = []  # (expression, {lang: message})
        if question.type == "number" and (question.min is not None or question.max is not None):
            parts, beyond = [], None
            if question.min is not None:
                parts.append(f". >= {int(question.min)}")
                beyond = int(question.min) - 1
            if question.max is not None:
                parts.append(f". <= {int(question.max)}")
                beyond = int(question.max) + 1
            message = self._each(lambda content: web_message(question, content, [str(beyond)]))
            rules.append((" and ".join(parts), message))
        if question.type == "multiple":
            values = [v for v, _ in option_choices(question, self.contents[self.languages[0]])]
            values += [v for v, _ in special_choices(question)]
            exclusive = [o.value for o in question.options if o.exclusive]
            exclusive += [v for v, _ in special_choices(question)]
            for value in exclusive:
                other = next(v for v in values if v != value)
                expression = f"not(selected(., '{value}') and count-selected(.) > 1)"
                message = self._each(
                    lambda content, v=value, o=other: web_message(question, content, [v, o])
                )
                rules.append((expression, message))
        if question.type == "text":
            too_long = ["x" * (question.max_length + 1)]
            message = self._each(lambda content: web_message(question, content, too_long))
            rules.append((f"string-length(.) <= {question.max_length}", message))
        for check in self.questionnaire.checks:
            if question.id in self._checked(check):
                expression = XPath(self.questionnaire.fields, f"check {check.id}").never_false(
                    check.when
                )
                rules.append(
                    (
                        expression,
                        self._each(lambda content, k=check: form_text(content(k, "message"))),
                    )
                )
        if rules:
            row["constraint"] = " and ".join(f"({expression})" for expression, _ in rules)
            messages = {
                lang: " ".join(message[lang] for _, message in rules) for lang in self.languages
            }
            self._texts(row, "constraint_message", messages)

    def _checked(self, check) -> set[str]:
        """The fields a check's constraint is on: those it names for its message, and the
        last field it reads, where everything it reads is known at last."""
        order = list(self.questionnaire.fields)
        last = max(check.when.names, key=order.index)
        return {*check.questions, last}
