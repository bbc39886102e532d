"""An association's keys to the JSON API (/api/v1/campaigns): created with a name,
shown once, stored hashed, revoked at any time; the page shows when each was last used.
A key reads its association's own campaigns, exactly as their dashboards do."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField

from ..accounts.access import association_required
from ..api.auth import new_key
from ..extensions import db
from ..forms import Form
from ..forms import at_most
from ..forms import required
from ..models import ApiKey
from ..models import hash_token
from ..models import utcnow
from . import bp

log = logging.getLogger(__name__)

MAX_LIVE_KEYS = 10


class ApiKeyForm(Form):
    name = StringField(
        _l("Name of the key (where it will be used)"), validators=[required(), at_most(100)]
    )


def association_keys() -> list[ApiKey]:
    """The association's keys: live ones first, newest first."""
    return db.session.scalars(
        sa.select(ApiKey)
        .where(ApiKey.association_id == current_user.association_id)
        .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
    ).all()


@bp.context_processor
def api_key_panel():
    """What templates/associations/_api_keys.html shows, read only when it is included."""
    return {"api_keys": association_keys, "new_api_key_form": ApiKeyForm}


def render_keys(form, new=None, status=200):
    return render_template("associations/api_keys.html", api_key_form=form, new_api_key=new), status


@bp.get("/api-keys")
@association_required
def api_keys():
    return render_keys(ApiKeyForm())


@bp.post("/api-keys")
@association_required
def create_api_key():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return render_keys(form, status=422)
    live = [k for k in association_keys() if k.revoked_at is None]
    if len(live) >= MAX_LIVE_KEYS:
        form.name.errors = [
            _("You have %(count)s keys: revoke one before you create another.", count=len(live))
        ]
        return render_keys(form, status=422)
    key, prefix = new_key()
    db.session.add(
        ApiKey(
            association_id=current_user.association_id,
            name=form.name.data.strip(),
            prefix=prefix,
            key_hash=hash_token(key),
        )
    )
    db.session.commit()
    log.info("API key %s created by association %s", prefix, current_user.association_id)
    # Shown on this response only: never in a redirect, a flash message or the session.
    return render_keys(ApiKeyForm(formdata=None), new=key, status=201)


@bp.post("/api-keys/<int:key_id>/revoke")
@association_required
def revoke_api_key(key_id):
    api_key = db.session.scalar(
        sa.select(ApiKey).where(
            ApiKey.id == key_id, ApiKey.association_id == current_user.association_id
        )
    )
    if api_key is None:
        abort(404)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        db.session.commit()
        log.info("API key %s revoked", api_key.prefix)
    flash(_("The key “%(name)s” was revoked: it no longer opens anything.", name=api_key.name))
    return redirect(url_for("associations.index", _anchor="api-keys"))
