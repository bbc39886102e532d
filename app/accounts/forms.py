"""Login, registration and password forms, and the password policy."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import EqualTo
from wtforms.validators import Length
from wtforms.validators import Regexp
from wtforms.validators import StopValidation

from ..forms import Form
from ..forms import at_most
from ..forms import required
from .passwords import is_common

MIN_PASSWORD = 12  # ASVS 6.2.1: at least 8, 15 recommended; no composition rules
MAX_PASSWORD = 128
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$"


def _email():
    return [
        required(),
        at_most(254),
        Regexp(EMAIL, message=_l("Enter an e-mail address like name@example.cl.")),
    ]


COMMON_PASSWORD = _l("Choose a less common password: a few unrelated words work well.")


def not_common(form, field):
    """zxcvbn's estimate, with the form's e-mail and name as words an attacker would try.
    Only within the length rule: a 20,000-character post must not cost seconds of CPU."""
    if not MIN_PASSWORD <= len(field.data or "") <= MAX_PASSWORD:
        return
    known = [getattr(form, name).data or "" for name in ("email", "name") if hasattr(form, name)]
    known += getattr(form, "known_words", [])
    if is_common(field.data, known):
        raise StopValidation(str(COMMON_PASSWORD))


def _new_password():
    return [
        required(),
        Length(
            min=MIN_PASSWORD,
            max=MAX_PASSWORD,
            message=_l(
                "Use between %(min)d and %(max)d characters; a few words make a good password."
            ),
        ),
        not_common,
    ]


def _confirmation():
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            required(),
            EqualTo("password", message=_l("The two passwords are different.")),
        ],
    )


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=_email())
    password = PasswordField(
        _l("Password"), validators=[required(), Length(max=MAX_PASSWORD, message=_l("Too long."))]
    )


class RegisterForm(Form):
    name = StringField(_l("Name of the trade association"), validators=[required(), at_most(200)])
    email = EmailField(_l("E-mail"), validators=_email())
    password = PasswordField(_l("Password"), validators=_new_password())
    confirm = _confirmation()


class ResetRequestForm(Form):
    email = EmailField(_l("E-mail"), validators=_email())


class NewPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=_new_password())
    confirm = _confirmation()

    def __init__(self, *args, known_words=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.known_words = list(known_words)  # the account's e-mail and association name
