"""An association imports a workshop's offline submissions (ODK Collect, KoboCollect)
into a campaign: the same import as `flask assessments import` (app/offline), through
an upload form on the campaign's dashboard. The private links exist only in the answer
to the upload: a sheet of result cards (PDF) or a list of links (CSV)."""

from __future__ import annotations

import logging

from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy.exc import IntegrityError
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from .. import pinned_questionnaire
from ..accounts.access import association_required
from ..extensions import db
from ..forms import Form
from ..i18n import content_for
from ..i18n import current_language
from ..offline import cards
from ..offline.odk_import import FileError
from ..offline.odk_import import import_file
from ..uploads import upload_limit
from . import bp
from .views import own_campaign

log = logging.getLogger(__name__)


class ImportForm(Form):
    file = FileField(_l("File exported from KoboToolbox or ODK Central (CSV or JSON)"))
    output = RadioField(
        _l("What do you want to receive?"),
        choices=[
            SelectChoice("cards", _l("Result cards to print, with QR codes (PDF)")),
            SelectChoice("links", _l("A list of the private links (CSV)")),
        ],
        default="cards",
        validate_choice=False,
    )

    def validate_file(self, field):
        if not field.data or not field.data.filename:
            raise StopValidation(_l("Choose the file to import."))

    def validate_output(self, field):
        if field.data not in ("cards", "links"):
            raise StopValidation(_l("Choose one of the options."))


@bp.context_processor
def import_helpers():
    return {"blank_import_form": lambda: ImportForm(formdata=None)}


@bp.route("/campaigns/<int:campaign_id>/import", methods=["GET", "POST"])
@upload_limit("IMPORT_MAX_BYTES")
@association_required
def import_submissions(campaign_id):
    campaign = own_campaign(campaign_id)
    questionnaire = pinned_questionnaire(campaign)
    form = ImportForm()
    report = None
    if not campaign.is_open:
        flash(_("The campaign is closed: nothing can be imported into it."))
        return redirect(url_for("associations.dashboard", campaign_id=campaign.id))
    if form.validate_on_submit():
        lang = current_language()
        try:
            report = import_file(questionnaire, form.file.data.read(), lang, campaign)
        except FileError as error:
            form.file.errors = [str(error)]
        if report is not None and not report.refused:
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                form.file.errors = [_("Another import stored some of these submissions just now.")]
                report = None
            else:
                log.info("Campaign %s: %s offline submission(s) imported", campaign.id,
                         len(report.imported))  # fmt: skip
                return imported(campaign, questionnaire, report, form.output.data, lang)
        db.session.rollback()
    status = 422 if form.errors or report is not None else 200
    content = content_for(questionnaire)
    problems = []
    for row in report.refused if report else []:
        for name, message in row.errors:
            question = questionnaire.fields.get(name)
            problems.append((row.number, content(question) if question else name, name, message))
    return render_template(
        "associations/import.html",
        campaign=campaign,
        import_form=form,
        problems=problems,
    ), status


def imported(campaign, questionnaire, report, output: str, lang: str):
    """The answer to an import that stored something: the links, once."""
    if not report.imported:
        flash(
            _("Nothing new to import: these %(count)s submissions were imported before.",
              count=len(report.duplicates)),
            "success",
        )  # fmt: skip
        return redirect(url_for("associations.dashboard", campaign_id=campaign.id))
    if output == "links":
        body, mimetype, name = cards.links_csv(report, questionnaire, lang), "text/csv", "links.csv"
    else:
        body, mimetype, name = (
            cards.cards_pdf(report, questionnaire, lang),
            "application/pdf",
            "cards.pdf",
        )
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign.id}-{name}"',
            "Cache-Control": "no-store",  # private links
        },
    )
