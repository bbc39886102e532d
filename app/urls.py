"""URLs: ids in paths, and absolute links built on BASE_URL (docs/SECURITY.md T20, T18)."""

from __future__ import annotations

from flask import current_app
from flask import has_request_context
from flask import request
from flask import url_for
from werkzeug.routing import IntegerConverter

# The largest id PostgreSQL's INTEGER holds; a larger number makes it raise.
MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """`<int:...>` in this app is always a row id, so it matches only what a row id can
    be: ASCII digits without a leading zero, 1 to 2**31 - 1. Anything else (a number
    beyond the database's range, other scripts' digits, `0001`) matches no route and is a
    404 like any unknown page, never a database error. Registered as `int` in
    create_app, so no view has to check."""

    regex = r"[1-9][0-9]{0,9}"

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


def init_app(app) -> None:
    """Before any blueprint is registered: rules read the converters when they are added."""
    app.url_map.converters["int"] = DatabaseId
    app.add_template_global(external_url)


def external_url(endpoint: str, **values) -> str:
    """An absolute link to `endpoint`, for an e-mail or a page whose link is handed on
    (reset links, the campaign invitation and its QR code).

    Built on BASE_URL when it is set, never on the Host header a request claims: a
    forged Host would otherwise turn a reset e-mail into a link to the attacker's site.
    Without BASE_URL (the embedded SQLite set-up, or TRUSTED_HOSTS), the request's own
    address, as `make run` needs.
    """
    base = current_app.config.get("BASE_URL")
    if not base:
        return url_for(endpoint, _external=True, **values)
    if not has_request_context():
        with current_app.test_request_context("/", base_url=base):
            return base + _path(endpoint, values)
    return base + _path(endpoint, values)


def _path(endpoint: str, values: dict) -> str:
    """The path of a URL inside the app: BASE_URL already names where it is mounted."""
    path = url_for(endpoint, **values)
    root = request.script_root
    return path[len(root) :] if root and path.startswith(root + "/") else path
