"""Forms built from the questionnaire model, one per step.

Every validator carries an explicit message from our own catalog: WTForms
ships no Haitian Creole, and its built-in messages would show English.
"""

from __future__ import annotations

import json
import re

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms import IntegerField
from wtforms import RadioField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.validators import StopValidation
from wtforms.validators import ValidationError

from ..cache import form_classes
from ..cache import idle_step_forms
from ..engine.checks import failed_checks
from ..engine.journey import profile_gaps
from ..engine.model import CHOICE_TYPES
from ..engine.model import DONT_KNOW
from ..engine.model import NOT_APPLICABLE
from ..engine.model import PROFILE
from ..forms import Form
from ..forms import at_most
from ..i18n import format_number

ORIGINAL_PREFIX = (
    "was-"  # hidden copy of the value shown, so a stale tab only writes what it changed
)


class ChoiceField(RadioField):
    def pre_validate(self, form):
        if self.data is not None and self.data not in {choice.value for choice in self.choices}:
            raise StopValidation(_l("Choose one of the options."))


class ChoicesField(SelectMultipleField):
    exclusive: frozenset = frozenset()

    def pre_validate(self, form):
        values = set(self.data or [])
        if not values <= {choice.value for choice in self.choices}:
            raise StopValidation(_l("Choose one of the options."))
        lonely = values & self.exclusive
        if lonely and len(values) > 1:
            label = next(c.label for c in self.choices if c.value in lonely)
            raise StopValidation(
                _("“%(answer)s” cannot be combined with other answers.", answer=label)
            )


# ASCII digits, as the calculator takes them, and at most 18 (any count of people fits):
# int() alone also reads other scripts' digits ('٣'), '1_000' and '+5', and a number of
# 309 digits or more made the range check raise OverflowError, a 500.
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


def parse_whole_number(text: str) -> int:
    """A whole number as people write it ("1.250", "1 250"); ValueError with the
    message to show when it is not one."""
    digits = text.strip().replace(".", "").replace(" ", "").replace("\u00a0", "")
    if not WHOLE_NUMBER.fullmatch(digits):
        raise ValueError(_("Enter a whole number, for example 12."))
    return int(digits)


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            self.data = parse_whole_number(valuelist[0])


def range_message(minimum: int | None, maximum: int | None) -> str:
    """What to write instead of a number out of range, with the page's thousands
    separators ("de 1 a 1.000.000")."""
    if minimum is not None and maximum is not None:
        return _(
            "Enter a number from %(min)s to %(max)s.",
            min=format_number(minimum),
            max=format_number(maximum),
        )
    if minimum is not None:
        return _("Enter a number of at least %(min)s.", min=format_number(minimum))
    return _("Enter a number of at most %(max)s.", max=format_number(maximum))


def _number_range(question):
    minimum = int(question.min) if question.min is not None else None
    maximum = int(question.max) if question.max is not None else None

    def in_range(form, field):
        number = field.data
        if number is None:
            return
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ValidationError(range_message(minimum, maximum))

    return in_range


def missing_answer_message(question) -> str:
    """What a required question left empty asks for, by its kind of answer."""
    if question.type == "number":
        return _("Write a number, for example 12.")
    if question.type == "multiple":
        return _("Choose at least one answer.")
    if question.type == "text":
        return _("Answer this question.")
    return _("Choose an answer.")


def special_choices(question):
    """The "don't know" and "does not apply" answers a question allows."""
    choices = []
    if question.dont_know:
        choices.append((DONT_KNOW, _l("I don't know")))
    if question.allow_na:
        choices.append((NOT_APPLICABLE, _l("Does not apply to us")))
    return choices


def option_choices(question, content):
    if question.type == "yesno":
        labels = {"yes": _l("Yes"), "no": _l("No")}
        return [(o.value, labels[o.value]) for o in question.options]
    return [(o.value, content.option(question, o)) for o in question.options]


def build_field(question, content) -> Field:
    # Whether an answer is required depends on what else is shown: checked by the view.
    presence = [Optional()]
    choices = [
        SelectChoice(value, label)
        for value, label in option_choices(question, content) + special_choices(question)
    ]
    if question.type in CHOICE_TYPES:
        return ChoiceField(choices=choices, validators=presence, validate_choice=False)
    if question.type == "multiple":
        return ChoicesField(choices=choices, validators=presence, validate_choice=False)
    if question.type == "number":
        return WholeNumberField(validators=[*presence, _number_range(question)])
    return TextAreaField(validators=[Optional(), at_most(question.max_length)])


class SectionForm(Form):
    """Fields are added per section by `section_form`. CSRFProtect checks the token of
    every post before the view runs: the form does not check it a second time.

    `originals` holds, per question id, the page's hidden copy of the value shown (its
    JSON text, `encode`; None when none was posted): read and written as a dict, not
    as fields, since binding a field per question costs each post more than the rest
    of the form's work on it."""

    originals: dict

    class Meta:
        csrf = False


def section_form(questions, content, original: dict, formdata=None, meta=None):
    """A form for the visible questions of one step.

    `original` holds the values shown when the page was rendered; posting
    them back lets the save skip answers this page did not change. `meta`:
    WTForms options, e.g. `{"csrf": False}` for answers that come from a file."""

    shown = tuple((q.id, q.wording) for q in questions)
    key = (*content.key, shown)
    form_class = _form_class(key, questions, content)
    if formdata is not None and meta is None:
        form = borrowed_form(key, form_class, questions)
        form.process(formdata)
        form.originals = posted_originals(questions, formdata)
        return form
    if formdata is not None:
        form = form_class(formdata=formdata, meta=meta)
        form.originals = posted_originals(questions, formdata)
    else:
        data = _form_data(questions, original)
        form = form_class(data=data)
        form.originals = {question_id: encode(value) for question_id, value in data.items()}
    return _with_exclusive_answers(form, questions)


def _with_exclusive_answers(form, questions):
    for question in questions:
        field = form[question.id]
        if isinstance(field, ChoicesField):
            field.exclusive = frozenset(
                [o.value for o in question.options if o.exclusive] + [DONT_KNOW, NOT_APPLICABLE]
            )
    return form


def borrowed_form(key, form_class, questions):
    """A form of `form_class` for this request to process with its post: an idle one
    (cache.IDLE_STEP_FORMS), or a new one. It goes back to the idle list when the
    request ends (`return_borrowed_forms`). Processing a form again costs a post a
    fifth of building one: binding its fields was a tenth of a page save."""
    idle = idle_step_forms.get(key)
    if idle is None:
        idle = []
        idle_step_forms.put(key, idle)
    try:
        form = idle.pop()
    except IndexError:
        form = _with_exclusive_answers(form_class(formdata=None), questions)
    for field in form:
        field.errors = ()  # as a new field's: process() leaves the last validation's
    g.setdefault("borrowed_forms", []).append((idle, form))
    return form


def return_borrowed_forms(_exception=None) -> None:
    """At the end of a request, its borrowed forms are idle again."""
    for idle, form in g.pop("borrowed_forms", ()):
        idle.append(form)


def init_app(app) -> None:
    app.teardown_request(return_borrowed_forms)


def _form_class(key, questions, content):
    """One form class per questionnaire version, language and set of questions, built once."""
    form_class = form_classes.get(key)
    if form_class is None:

        class Form(SectionForm):
            pass

        for question in questions:
            setattr(Form, question.id, build_field(question, content))
        form_classes.put(key, Form)
        form_class = Form
    return form_class


def _form_data(questions, values: dict) -> dict:
    return {question.id: form_value(question, values.get(question.id)) for question in questions}


def form_value(question, value):
    """An engine value as its field holds it."""
    if isinstance(value, frozenset | set | tuple):
        return sorted(value)
    if question.type == "multiple" and value in (DONT_KNOW, NOT_APPLICABLE):
        return [value]  # shown as its ticked box
    return value


def posted_originals(questions, formdata) -> dict:
    """{question id: the hidden copy of the value shown, as posted (or None)}."""
    return {question.id: formdata.get(ORIGINAL_PREFIX + question.id) for question in questions}


def encode(value) -> str:
    if isinstance(value, frozenset | set | tuple):
        value = sorted(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def posted_value(question, form):
    """The engine value of a validated field (None when left empty)."""
    data = form[question.id].data
    if question.type == "multiple":
        if data and len(data) == 1 and data[0] in (DONT_KNOW, NOT_APPLICABLE):
            return data[0]  # the engine takes these bare, not as a chosen option
        return frozenset(data) if data else None
    if question.type == "text":
        return data.strip() if data and data.strip() else None
    return data if data not in ("", None) else None


def remember_saved(form, changes: dict) -> None:
    """After a save, the page's hidden copies of the values shown hold what is stored."""
    for question_id, value in changes.items():
        form.originals[question_id] = encode(value)


def changed_values(questions, form) -> dict:
    """{question id: new value or None} for the answers this page changed."""
    changes = {}
    for question in questions:
        value = posted_value(question, form)
        if value is None and question.type in CHOICE_TYPES:
            continue  # a radio button cannot be unchecked: nothing was posted for it
        if encode(value) != (form.originals.get(question.id) or encode(None)):
            changes[question.id] = value
    return changes


def answer_label(question, value, content, format_number) -> str:
    """How an answer reads on the review and results pages."""
    if value is None:
        return ""
    labels = dict(option_choices(question, content) + special_choices(question))
    if question.type == "multiple":
        order = [v for v, _ in option_choices(question, content) + special_choices(question)]
        return ", ".join(str(labels[v]) for v in order if v in value)
    if question.type in CHOICE_TYPES or value in labels:
        return str(labels.get(value, value))
    if question.type == "number":
        return format_number(value)
    return value


class SharingForm(Form):
    """What a campaign member lets its trade association see (on joining, and later)."""

    member_name = StringField(
        _l("Name of your organisation (optional)"), validators=[Optional(), at_most(200)]
    )
    sharing = RadioField(
        _l("What may your trade association see?"),
        choices=[
            SelectChoice(
                "aggregate", _l("Only totals that mix at least five organisations (recommended)")
            ),
            SelectChoice("named", _l("Also my organisation's name and individual result")),
        ],
        default="aggregate",
        validate_choice=False,
    )

    def validate_sharing(self, field):
        if field.data not in ("aggregate", "named"):
            raise StopValidation(_l("Choose one of the options."))


def validate_step(
    questionnaire, journey, step, formdata, content, complete=True, meta=None, form=None
):
    """Validate the answers posted for one step as the journey does: (form, valid values).

    Each field's own rules, then (unless `complete` is False: a draft) the profile's
    required fields once visibility is known, then the cross-field checks, each message
    on the fields of this step it names. The web's step pages and the import of
    offline submissions (app/offline) both validate here. `form`: one this function
    returned for the same questions, processed again with `formdata` (an import of
    thousands of submissions builds each form once)."""
    questions = journey.candidates(step)
    if form is None:
        form = section_form(questions, content, {}, formdata=formdata, meta=meta)
    else:
        form.process(formdata)
        form.originals = posted_originals(questions, formdata)
    form.validate()
    values = {q.id: posted_value(q, form) for q in questions if not form[q.id].errors}
    if step.id == PROFILE and complete:
        for question in profile_gaps(questionnaire, values):
            add_error(form, question.id, missing_answer_message(question))
    for check in failed_checks(questionnaire, journey.values_with(values)):
        on_page = [name for name in check.questions if name in values] or [
            name for name in sorted(check.when.names) if name in values
        ]
        for name in on_page:
            add_error(form, name, content(check, "message"))
    return form, values


def add_error(form, field_id: str, message: str) -> None:
    """Flag a field, unless it already has a message (an invalid answer keeps its own)."""
    if not form[field_id].errors:
        form[field_id].errors = [message]
