"""Who is calling: an assessment's private token or an association's API key, both
sent as `Authorization: Bearer ...` and never in the URL, so that no access log, proxy
or browser history keeps them. Both are stored hashed (models.hash_token)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import request
from flask_limiter.util import get_remote_address

from ..assess import store
from ..assess.loading import LoadedAssessment
from ..extensions import db
from ..models import ApiKey
from ..models import Association
from ..models import hash_token
from ..models import utcnow
from .errors import fail

KEY_PREFIX = "cmk_"  # tells an API key from an assessment token at a glance
SHOWN_PREFIX = 12  # characters of a key kept in clear, so its owner can tell keys apart
MAX_KEY_LENGTH = 128
LAST_USED_EVERY = timedelta(minutes=1)  # one write a minute per key, not one per request


def bearer() -> str | None:
    """The credential of `Authorization: Bearer <credential>`, if any."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and credential else None


def credential_or_address() -> str:
    """What a per-key rate limit counts: the credential (hashed), else the address."""
    credential = bearer()
    return "key:" + hash_token(credential)[:32] if credential else get_remote_address()


def current_assessment() -> LoadedAssessment:
    """The assessment the bearer token opens; 401 for a missing or unknown token."""
    token = bearer()
    if token is None or token.startswith(KEY_PREFIX):
        fail(401)
    try:
        return LoadedAssessment.find(token)
    except store.UnknownToken:
        fail(401)


def new_key() -> tuple[str, str]:
    """(key, prefix shown on the page); the key is shown once and stored hashed."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:SHOWN_PREFIX]


# A live key's id, its association and whether its last-used stamp is due again.
_BY_KEY_HASH = sa.select(
    ApiKey.id,
    ApiKey.association_id,
    ApiKey.last_used_at.is_(None) | (ApiKey.last_used_at < sa.bindparam("stamp_before")),
).where(ApiKey.key_hash == sa.bindparam("key_hash"), ApiKey.revoked_at.is_(None))


def current_association() -> Association:
    """The approved association whose live API key is the bearer; 401 otherwise.
    Notes when the key was last used (at most once a minute)."""
    key = bearer()
    if key is None or not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        fail(401)
    now = utcnow()
    found = db.session.execute(
        _BY_KEY_HASH, {"key_hash": hash_token(key), "stamp_before": now - LAST_USED_EVERY}
    ).first()
    association = db.session.get(Association, found.association_id) if found else None
    if association is None or not association.approved:
        fail(401)
    if found[2]:
        db.session.commit()  # the stamp is a short write transaction of its own
        db.session.execute(sa.update(ApiKey).where(ApiKey.id == found.id).values(last_used_at=now))
        db.session.commit()
    return association
