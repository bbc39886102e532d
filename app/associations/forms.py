"""Campaign forms; every validator carries our own translated message."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.validators import StopValidation

from ..forms import Form
from ..forms import at_most
from ..forms import required


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
    name = StringField(_l("Name of the campaign"), validators=[required(), at_most(200)])
    version = ChoiceField(_l("Questionnaire version"), validate_choice=False)
    closes_on = LocalDateField(
        _l("Closing date (optional)"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    message = TextAreaField(
        _l("Message to your members (optional)"),
        validators=[Optional(), at_most(2000)],
    )

    def set_versions(self, questionnaires):
        self.version.choices = [
            SelectChoice(f"{q.id}:{q.version}", f"{q.title} (v{q.version})") for q in questionnaires
        ]
