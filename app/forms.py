"""What every form of the app shares: our own translated messages, never WTForms'
(which has no Haitian Creole and would load its catalogs on every request)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import DataRequired
from wtforms.validators import Length


class Form(FlaskForm):
    class Meta:
        locales = False


def required():
    return DataRequired(message=_l("Fill in this field."))


def at_most(characters: int):
    return Length(max=characters, message=_l("Write at most %(max)d characters."))
