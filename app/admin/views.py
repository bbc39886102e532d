"""Programme staff pages; every route needs the admin role."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import questionnaires
from ..accounts.access import admins_only
from ..accounts.auth import RESET_MAX_AGE
from ..extensions import db
from ..i18n import content_for
from ..models import Assessment
from ..models import Association
from ..models import PasswordReset
from ..models import utcnow
from ..reporting import aggregates
from ..reporting.integrity import suspicious_campaigns
from . import bp

log = logging.getLogger(__name__)


bp.before_request(admins_only)


@bp.get("/")
def index():
    pending = db.session.scalars(
        sa.select(Association)
        .where(Association.status == "pending")  # e-mail confirmed; never "unconfirmed"
        .order_by(Association.created_at)
    ).all()
    resets = db.session.scalars(
        sa.select(PasswordReset)
        .where(PasswordReset.created_at > utcnow() - timedelta(seconds=RESET_MAX_AGE))
        .order_by(PasswordReset.created_at.desc())
    ).all()
    versions = db.session.execute(
        sa.select(
            Assessment.questionnaire_id,
            Assessment.questionnaire_version,
            sa.func.count(Assessment.id),
            sa.func.count(Assessment.submitted_at),
        )
        .group_by(Assessment.questionnaire_id, Assessment.questionnaire_version)
        .order_by(Assessment.questionnaire_id, Assessment.questionnaire_version)
    ).all()
    questionnaire = questionnaires().get(current_app.config["QUESTIONNAIRE"])
    return render_template(
        "admin/index.html",
        pending=pending,
        resets=resets,
        versions=versions,
        loaded=list(questionnaires()),
        participation=aggregates.participation(sa.true()),
        release=aggregates.latest_release(None),
        suspicious=suspicious_campaigns(),
        questionnaire=questionnaire,
        content=content_for(questionnaire),
        minimum=aggregates.MIN_GROUP_SIZE,
    )


@bp.post("/associations/<int:association_id>/approve")
def approve(association_id):
    association = db.get_or_404(Association, association_id)
    if association.status == "unconfirmed":  # only once its e-mail address is confirmed
        abort(404)
    association.status = "approved"
    association.approved_at = utcnow()
    db.session.commit()
    log.info("Association %s approved by user %s", association.id, current_user.id)
    flash(_("%(name)s can now log in.", name=association.name), "success")
    return redirect(url_for("admin.index"))
