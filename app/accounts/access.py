"""Who may open which page: associations see only their own, staff see the staff pages."""

from __future__ import annotations

import re
from functools import wraps

from flask import abort
from flask import redirect
from flask import request
from flask import url_for
from flask_login import current_user


def _to_login():
    return redirect(url_for("accounts.login", next=request.path))


def association_required(view):
    """Only an approved association's own staff; anonymous visitors go to the login page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return _to_login()
        if current_user.association is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def admins_only():
    """A `before_request` guard for every page of the staff blueprint."""
    if not current_user.is_authenticated:
        return _to_login()
    if not current_user.is_admin:
        abort(403)
    return None


def safe_next(target: str | None) -> str:
    """Only a path on this site (docs/SECURITY.md T16)."""
    if target and re.fullmatch(r"/(?![/\\])[A-Za-z0-9/_.\-]*", target):
        return target
    return url_for("associations.index")
