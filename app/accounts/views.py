"""Login, logout, registration and password resets."""

from __future__ import annotations

import logging

from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..extensions import limiter
from ..forms import Form
from ..models import Association
from ..models import User
from ..models import utcnow
from . import auth
from . import bp
from .access import safe_next
from .forms import LoginForm
from .forms import NewPasswordForm
from .forms import RegisterForm
from .forms import ResetRequestForm

log = logging.getLogger(__name__)


def _account_key():
    return (request.form.get("email") or "").strip().lower()[:254] or "-"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    scope="login-account",
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = auth.authenticate(form.email.data, form.password.data)
        if user is None:
            log.info("Failed login from %s", request.remote_addr)
            form.password.errors = [_("E-mail or password is not right.")]
        elif user.association is not None and user.association.status == "unconfirmed":
            form.email.errors = [
                _(
                    "Confirm your e-mail address first, with the link we sent you. "
                    "To receive a new link, register again."
                )
            ]
        elif not user.is_active:
            form.email.errors = [_("Your account is waiting for approval by programme staff.")]
        else:
            auth.start_session(user)
            db.session.commit()
            log.info("User %s logged in", user.id)
            if user.is_admin:
                return redirect(url_for("admin.index"))
            return redirect(safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        auth.end_sessions(user)
        db.session.commit()
    flash(_("You have logged out."), "success")
    return redirect(url_for("pages.landing"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        name = form.name.data.strip()
        # Hashed whether or not the address is known, and every path queues one
        # e-mail: the answer takes as long either way (docs/SECURITY.md T9).
        password_hash = auth.hash_password(form.password.data)
        user = auth.find_user(email)
        if user is None:
            association = Association(name=name, status="unconfirmed")
            user = User(email=email, password_hash=password_hash, association=association)
            db.session.add_all([association, user])
            db.session.commit()
            log.info("Association %s registered, e-mail not confirmed yet", association.id)
            auth.send_confirmation(user)
        elif user.association is not None and user.association.status == "unconfirmed":
            # Nobody has shown the address is theirs yet: the newest registration wins,
            # and the links sent before stop working (the epoch is in them).
            user.association.name = name
            user.association.created_at = utcnow()
            user.password_hash = password_hash
            user.session_epoch += 1
            db.session.commit()
            log.info(
                "Association %s registered again, e-mail not confirmed yet", user.association_id
            )
            auth.send_confirmation(user)
        else:
            auth.send_registration_notice(user)
        # The same answer whether or not the e-mail was known (no account enumeration).
        return render_template("accounts/registered.html")
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/confirm", methods=["GET", "POST"])
def confirm_email():
    """The link e-mailed at registration: GET shows a button, POST confirms, so a mail
    scanner that opens links changes nothing. Only then do programme staff see it."""
    user = auth.user_from_confirmation_token(request.args.get("token", ""))
    if user is None or user.association is None:
        return render_template("accounts/confirm_invalid.html"), 404
    association = user.association
    form = Form()
    if association.status == "unconfirmed" and form.validate_on_submit():
        association.status = "pending"
        db.session.commit()
        log.info("Association %s confirmed its e-mail, pending approval", association.id)
    if association.status != "unconfirmed":
        return render_template("accounts/confirmed.html")
    return render_template("accounts/confirm.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        # Queues the e-mail, or for an unknown address writes the same letter and drops it:
        # the answer takes as long either way.
        auth.send_reset(auth.find_user(form.email.data))
        return render_template("accounts/reset_sent.html")
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    user = auth.user_from_reset_token(token)
    if user is None:
        return render_template("accounts/reset_invalid.html"), 404
    known = [user.email, user.association.name if user.association else ""]
    form = NewPasswordForm(known_words=known)
    if form.validate_on_submit():
        user.password_hash = auth.hash_password(form.password.data)
        auth.end_sessions(user)
        db.session.commit()
        log.info("User %s set a new password", user.id)
        flash(_("Your new password is saved. Please log in."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)
