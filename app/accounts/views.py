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
from ..models import Association
from ..models import User
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
        if auth.find_user(email) is None:
            association = Association(name=form.name.data.strip())
            db.session.add(association)
            db.session.add(
                User(
                    email=email,
                    password_hash=auth.hash_password(form.password.data),
                    association=association,
                )
            )
            db.session.commit()
            log.info("Association %s registered, pending approval", association.id)
        # The same answer whether or not the e-mail was known (no account enumeration).
        return render_template("accounts/registered.html")
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = auth.find_user(form.email.data)
        if user is not None:
            auth.send_reset(user)
            db.session.commit()
        return render_template("accounts/reset_sent.html")
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    user = auth.user_from_reset_token(token)
    if user is None:
        return render_template("accounts/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        user.password_hash = auth.hash_password(form.password.data)
        auth.end_sessions(user)
        db.session.commit()
        log.info("User %s set a new password", user.id)
        flash(_("Your new password is saved. Please log in."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)
