"""A member joins its association's campaign through the invitation link."""

from __future__ import annotations

import hashlib
import hmac
import logging

import sqlalchemy as sa
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_limiter.util import get_remote_address

from .. import pinned_questionnaire
from ..assess.forms import SharingForm
from ..extensions import db
from ..extensions import limiter
from ..i18n import best_language
from ..i18n import content_for
from ..i18n import current_language
from ..models import Assessment
from ..models import Campaign
from ..models import shown_token
from . import join_bp

log = logging.getLogger(__name__)


def join_origin() -> str:
    """A keyed hash of the address a member joins from, cut to 12 hex digits: enough
    for staff to see many joins from one place, never enough to recover the address."""
    key = current_app.secret_key.encode()
    address = (request.remote_addr or "").encode()
    return hmac.new(key, b"join-origin:" + address, hashlib.sha256).hexdigest()[:12]


@join_bp.get("/c/<code>")
def invitation(code):
    """The link an association hands out carries no language: each member lands on the
    join page in the language their browser asks for (Creole for `ht` and `fr-HT`), and
    the page's language chooser is there if the guess is wrong."""
    lang = best_language(current_app.config["LANGUAGES"])
    response = redirect(url_for("join.join", lang=lang, code=shown_token(code)))
    response.vary.add("Accept-Language")
    return response


def campaign_by_code(code: str) -> Campaign:
    if len(code) > 64:
        abort(404)
    # As typed from the flyer (any case, with or without dashes): stored as shown.
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.code == shown_token(code)))
    if campaign is None or not campaign.association.approved:
        abort(404)
    return campaign


def _address_and_campaign() -> str:
    return f"{get_remote_address()}/{(request.view_args or {}).get('code', '')[:64]}"


@join_bp.route("/<lang>/c/<code>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["JOIN_LIMIT_PER_ADDRESS"],
    methods=["POST"],
    key_func=_address_and_campaign,
    deduct_when=lambda response: response.status_code == 302,  # only members who joined
    scope="join",
)
def join(code):
    campaign = campaign_by_code(code)
    questionnaire = pinned_questionnaire(campaign)
    form = SharingForm()
    if campaign.is_open and form.validate_on_submit():
        assessment, token = Assessment.start(
            questionnaire,
            current_language(),
            campaign_id=campaign.id,
            member_name=(form.member_name.data or "").strip() or None,
            share_named=form.sharing.data == "named",
            join_origin=join_origin(),
        )
        db.session.add(assessment)
        db.session.commit()
        log.info("Assessment %s joined campaign %s", assessment.id, campaign.id)
        return redirect(url_for("assess.section", token=token, section_id="profile"))
    status = 200 if not form.errors else 422
    if not campaign.is_open:
        status = 410
    return render_template(
        "associations/join.html",
        campaign=campaign,
        questionnaire=questionnaire,
        content=content_for(questionnaire),
        form=form,
    ), status
