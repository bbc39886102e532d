"""Campaigns of a trade association: create, close, share, follow and export."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import stream_with_context
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import pinned_questionnaire
from .. import questionnaires
from ..accounts.access import association_required
from ..extensions import db
from ..i18n import content_for
from ..i18n import format_day
from ..models import Assessment
from ..models import Campaign
from ..models import utcnow
from ..qr import qr_svg
from ..reporting import aggregates
from ..reporting import breakdowns
from ..reporting.comparison import compared_campaigns
from ..reporting.export import campaign_csv
from ..reporting.export import campaign_sheets
from ..reporting.export import campaign_xlsx
from ..reporting.export import named_members
from ..urls import external_url
from . import bp
from .forms import CampaignForm

log = logging.getLogger(__name__)

NAMED_ROWS_SHOWN = 100  # the CSV export has them all
FLYER_TITLE = _l("How ready is your organisation for Compromiso Migrante?")
FLYER_TYPE = _l("Or type this address:")
FLYER_TEXT = _l(
    "Answer a free self-assessment about inclusion and the legal basics of employing "
    "migrant workers, and get an action plan for your organisation."
)
# A flyer speaks both languages of the programme's users: each half in its own language,
# with a QR code that opens the join page in that language.
FLYER_SCAN = {
    "es": _l("Scan the code to answer in Spanish."),
    "ht": _l("Scan the code to answer in Haitian Creole."),
}


def own_campaign(campaign_id: int) -> Campaign:
    """Another association's campaign is a 404, exactly like one that does not exist."""
    campaign = Campaign.owned_by(current_user.association_id, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/")
@association_required
def index():
    campaigns = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.association_id == current_user.association_id)
        .order_by(Campaign.created_at.desc())
    ).all()
    counts = dict(
        db.session.execute(
            sa.select(Assessment.campaign_id, sa.func.count())
            .where(*aggregates.counted(Assessment.campaign_id.in_([c.id for c in campaigns])))
            .group_by(Assessment.campaign_id)
        ).all()
    )
    return render_template("associations/index.html", campaigns=campaigns, counts=counts)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@association_required
def new_campaign():
    form = CampaignForm()
    form.set_versions(questionnaires())
    if request.method == "GET":
        form.version.data = form.version.choices[-1].value if form.version.choices else None
    if form.validate_on_submit():
        questionnaire_id, version = form.version.data.split(":")
        campaign = Campaign(
            association_id=current_user.association_id,
            name=form.name.data.strip(),
            code=Campaign.new_code(),
            questionnaire_id=questionnaire_id,
            questionnaire_version=int(version),
            closes_on=form.closes_on.data,
            message=(form.message.data or "").strip(),
        )
        db.session.add(campaign)
        db.session.commit()
        return redirect(url_for("associations.dashboard", campaign_id=campaign.id))
    return render_template(
        "associations/campaign_new.html", form=form
    ), 200 if not form.errors else 422


@bp.get("/campaigns/<int:campaign_id>")
@association_required
def dashboard(campaign_id):
    campaign = own_campaign(campaign_id)
    questionnaire = pinned_questionnaire(campaign)
    named = named_members(campaign.id, NAMED_ROWS_SHOWN + 1)
    release = aggregates.latest_release(campaign.id)
    return render_template(
        "associations/dashboard.html",
        campaign=campaign,
        questionnaire=questionnaire,
        content=content_for(questionnaire),
        participation=aggregates.participation(Assessment.campaign_id == campaign.id),
        release=release,
        breakdown=breakdowns.in_force(release.summary) if release else None,
        breakdowns=breakdowns,
        compared=compared_campaigns(campaign),
        named=named[:NAMED_ROWS_SHOWN],
        more_named=len(named) > NAMED_ROWS_SHOWN,
        invitation=external_url("join.invitation", code=campaign.code),
    )


@bp.post("/campaigns/<int:campaign_id>/close")
@association_required
def close(campaign_id):
    campaign = own_campaign(campaign_id)
    campaign.closed_at = None if campaign.closed_at else utcnow()
    db.session.commit()
    if campaign.closed_at:
        flash(_("The campaign is closed: its link no longer starts new assessments."), "success")
    else:
        flash(_("The campaign is open again."), "success")
    return redirect(url_for("associations.dashboard", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/flyer")
@association_required
def flyer(campaign_id):
    campaign = own_campaign(campaign_id)
    halves = []
    for lang, scan in FLYER_SCAN.items():
        link = external_url("join.join", lang=lang, code=campaign.code)
        with force_locale(lang):
            closes = None
            if campaign.closes_on:
                closes = _(
                    "You can answer until %(date)s.", date=format_day(campaign.closes_on, lang)
                )
            halves.append(
                {
                    "lang": lang,
                    "title": str(FLYER_TITLE),
                    "text": str(FLYER_TEXT),
                    "scan": str(scan),
                    "type": str(FLYER_TYPE),
                    "closes": closes,
                    "link": link,
                    "qr": qr_svg(link),
                }
            )
    return render_template(
        "associations/flyer.html",
        campaign=campaign,
        halves=halves,
        link=external_url("join.invitation", code=campaign.code),
    )


@bp.get("/campaigns/<int:campaign_id>/export.csv")
@association_required
def export(campaign_id):
    campaign = own_campaign(campaign_id)
    questionnaire = pinned_questionnaire(campaign)
    sheets = campaign_sheets(campaign, questionnaire, content_for(questionnaire))
    return Response(
        stream_with_context(campaign_csv(sheets)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign.id}.csv"'},
    )


@bp.get("/campaigns/<int:campaign_id>/export.xlsx")
@association_required
def export_xlsx(campaign_id):
    """The same rows as the CSV, as a workbook: Excel set up for Chile opens it in
    columns, where it reads a comma CSV as one column."""
    campaign = own_campaign(campaign_id)
    questionnaire = pinned_questionnaire(campaign)
    sheets = campaign_sheets(campaign, questionnaire, content_for(questionnaire))
    return send_file(
        campaign_xlsx(sheets),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"campaign-{campaign.id}.xlsx",
    )
