"""Accounts: passwords, sessions that can be revoked, password-reset and e-mail
confirmation links, and the e-mails that carry them (sent by `mail.Outbox`)."""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from flask import current_app
from flask import session
from flask_babel import gettext as _
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
from ..urls import external_url
from .mail import Letter
from .mail import outbox

log = logging.getLogger(__name__)
RESET_MAX_AGE = 3600  # seconds
CONFIRM_MAX_AGE = 48 * 3600  # seconds


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


def _serializer(salt: str = "password-reset") -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt)


def _user_from_token(token: str, salt: str, max_age: int) -> User | None:
    """The user a link was signed for, while the epoch it was signed with is current."""
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
        user = db.session.get(User, int(data["user"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if user is None or user.session_epoch != data.get("epoch"):
        return None
    return user


def reset_link(user: User) -> str:
    return _reset_link(user.id, user.session_epoch)


def _reset_link(user_id: int, epoch: int) -> str:
    token = _serializer().dumps({"user": user_id, "epoch": epoch})
    return external_url("accounts.reset_password", token=token)


def user_from_reset_token(token: str) -> User | None:
    """A reset link works once: using it bumps the epoch it was signed with."""
    return _user_from_token(token, "password-reset", RESET_MAX_AGE)


def send_reset(user: User | None) -> None:
    """E-mail the link; without SMTP, or when sending fails, programme staff hand it over.
    The request only queues the letter. For an unknown address (`None`) the same letter
    is written and dropped, so both answers do the same work (docs/SECURITY.md T9)."""
    user_id = user.id if user is not None else 0
    link = _reset_link(user_id, user.session_epoch if user is not None else 0)

    def keep_for_staff():
        db.session.add(PasswordReset(user_id=user_id, link=link))
        db.session.commit()
        log.info("Password reset for user %s waits for programme staff", user_id)

    letter = Letter(
        to=user.email if user is not None else "",
        subject=_("Compromiso Migrante: choose a new password"),
        body=_(
            "Open this link to choose a new password:\n\n%(link)s\n\n"
            "It works once, for one hour. If you did not ask for it, ignore this e-mail: "
            "your password has not changed.",
            link=link,
        ),
        fallback=keep_for_staff,
    )
    if user is not None:
        outbox().send(letter)


def confirmation_link(user: User) -> str:
    """In the query string, not the path: the access log never writes query strings."""
    token = _serializer("confirm-email").dumps({"user": user.id, "epoch": user.session_epoch})
    return external_url("accounts.confirm_email", token=token)


def user_from_confirmation_token(token: str) -> User | None:
    """A newer registration with the same address bumps the epoch: older links stop."""
    return _user_from_token(token, "confirm-email", CONFIRM_MAX_AGE)


def send_confirmation(user: User) -> None:
    """E-mail the confirmation link; without SMTP, or when sending fails, the operator
    finds it in the log (never in the page: that would confirm nothing)."""
    link = confirmation_link(user)
    association_id = user.association_id

    def log_for_operator():
        log.warning(
            "No e-mail sent to association %s: its owner confirms the address with %s",
            association_id,
            link,
        )

    outbox().send(
        Letter(
            to=user.email,
            subject=_("Compromiso Migrante: confirm your e-mail address"),
            body=_(
                "Open this link to confirm your e-mail address and your trade association's "
                "registration:\n\n%(link)s\n\nIt works for 48 hours. Programme staff will "
                "then review your registration. If you did not register, ignore this e-mail.",
                link=link,
            ),
            fallback=log_for_operator,
        )
    )


def send_registration_notice(user: User) -> None:
    """Someone registered with an address that already has an account: tell its owner,
    in a letter that carries nothing the visitor typed."""
    outbox().send(
        Letter(
            to=user.email,
            subject=_("Compromiso Migrante: registration with your address"),
            body=_(
                "Someone tried to register a trade association with this e-mail address, "
                "which already has an account. If it was you, log in; if you forgot your "
                "password, choose a new one here:\n\n%(link)s\n\nIf it was not you, ignore "
                "this e-mail: your account has not changed.",
                link=external_url("accounts.request_reset"),
            ),
        )
    )
