"""Accounts: passwords, sessions that can be revoked, password-reset links."""

from __future__ import annotations

import logging
import smtplib
import time
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from flask import session
from flask import url_for
from flask_login import login_user
from flask_login import logout_user
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from ..cache import DUMMY_PASSWORD_HASH
from ..cache import memoized
from ..extensions import db
from ..extensions import login_manager
from ..models import PasswordReset
from ..models import User
from ..models import utcnow

log = logging.getLogger(__name__)
RESET_MAX_AGE = 3600  # seconds


@memoized(DUMMY_PASSWORD_HASH)
def _dummy_hash() -> str:
    """Checked when the e-mail is unknown, so both paths take the same time."""
    return generate_password_hash("not a real password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, Werkzeug's default


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Sessions carry `id:epoch`; a bumped epoch (logout, new password) ends them all."""
    try:
        raw_id, raw_epoch = user_id.split(":")
        user = db.session.get(User, int(raw_id))
    except ValueError:
        return None
    if user is None or user.session_epoch != int(raw_epoch):
        return None
    return user


def start_session(user: User) -> None:
    session.clear()  # a fresh session at login (ASVS 7.2.4)
    session.permanent = True
    # The absolute lifetime counts from here, whatever the activity (app/security.py).
    session["login_at"] = int(time.time())
    login_user(user)
    user.last_login_at = utcnow()


def end_sessions(user: User) -> None:
    """Log out everywhere: copied cookies stop working too (ASVS 7.4.1)."""
    user.session_epoch += 1
    logout_user()
    session.clear()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="password-reset")


def reset_link(user: User) -> str:
    token = _serializer().dumps({"user": user.id, "epoch": user.session_epoch})
    return url_for("accounts.reset_password", token=token, _external=True)


def user_from_reset_token(token: str) -> User | None:
    """A reset link works once: using it bumps the epoch it was signed with."""
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE)
        user = db.session.get(User, int(data["user"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if user is None or user.session_epoch != data.get("epoch"):
        return None
    return user


def send_reset(user: User) -> None:
    """E-mail the link when SMTP is configured; otherwise programme staff hand it over."""
    link = reset_link(user)
    host = current_app.config.get("SMTP_HOST")
    if not host:
        db.session.add(PasswordReset(user_id=user.id, link=link))
        log.info("Password reset for user %s waits for programme staff", user.id)
        return
    message = EmailMessage()
    message["Subject"] = "Compromiso Migrante: password reset"
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = user.email
    message.set_content(f"{link}\n\nThis link works once, for one hour.")
    try:
        with smtplib.SMTP(host, current_app.config["SMTP_PORT"], timeout=10) as smtp:
            smtp.starttls()
            if current_app.config.get("SMTP_USER"):
                smtp.login(current_app.config["SMTP_USER"], current_app.config["SMTP_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.error("Could not send a reset e-mail: %s", error.__class__.__name__)
        db.session.add(PasswordReset(user_id=user.id, link=link))
