"""Account and campaign forms; every validator carries our own translated message."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp
from wtforms.validators import StopValidation

MIN_PASSWORD = 12  # ASVS 6.2.1: at least 8, 15 recommended; no composition rules
MAX_PASSWORD = 128
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$"


class Form(FlaskForm):
    class Meta:
        locales = False  # our messages, not WTForms' (it has no Haitian Creole)


def _required():
    return DataRequired(message=_l("Fill in this field."))


def _email():
    return [
        _required(),
        Length(max=254, message=_l("Write at most %(max)d characters.")),
        Regexp(EMAIL, message=_l("Enter an e-mail address like name@example.cl.")),
    ]


def _new_password():
    return [
        _required(),
        Length(
            min=MIN_PASSWORD,
            max=MAX_PASSWORD,
            message=_l(
                "Use between %(min)d and %(max)d characters; a few words make a good password."
            ),
        ),
    ]


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=_email())
    password = PasswordField(
        _l("Password"), validators=[_required(), Length(max=MAX_PASSWORD, message=_l("Too long."))]
    )


class RegisterForm(Form):
    name = StringField(
        _l("Name of the trade association"),
        validators=[_required(), Length(max=200, message=_l("Write at most %(max)d characters."))],
    )
    email = EmailField(_l("E-mail"), validators=_email())
    password = PasswordField(_l("Password"), validators=_new_password())
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            _required(),
            EqualTo("password", message=_l("The two passwords are different.")),
        ],
    )


class ResetRequestForm(Form):
    email = EmailField(_l("E-mail"), validators=_email())


class NewPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=_new_password())
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            _required(),
            EqualTo("password", message=_l("The two passwords are different.")),
        ],
    )


class ChoiceField(SelectField):
    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            raise StopValidation(_l("Choose one of the options."))


class LocalDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date like 2026-12-31.")) from None


class CampaignForm(Form):
    name = StringField(
        _l("Name of the campaign"),
        validators=[_required(), Length(max=200, message=_l("Write at most %(max)d characters."))],
    )
    version = ChoiceField(_l("Questionnaire version"), validate_choice=False)
    closes_on = LocalDateField(
        _l("Closing date (optional)"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    message = TextAreaField(
        _l("Message to your members (optional)"),
        validators=[Optional(), Length(max=2000, message=_l("Write at most %(max)d characters."))],
    )

    def set_versions(self, questionnaires):
        self.version.choices = [
            SelectChoice(f"{q.id}:{q.version}", f"{q.title} (v{q.version})") for q in questionnaires
        ]


class SharingForm(Form):
    member_name = StringField(
        _l("Name of your organisation (optional)"),
        validators=[Optional(), Length(max=200, message=_l("Write at most %(max)d characters."))],
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
