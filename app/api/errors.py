"""Every API error is JSON, `{"code", "message", "errors"?}` (schemas.Error), with the
message in the request's language; never an HTML page, never a traceback."""

from __future__ import annotations

import logging
import math
import time

from flask import g
from flask import jsonify
from flask_babel import lazy_gettext as _l
from flask_smorest import abort
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import ServiceUnavailable

from ..extensions import db
from ..extensions import limiter
from ..faults import is_outage
from ..faults import log_database_error
from .language import choose_language

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request could not be read: send JSON text without NUL characters."),
    401: _l("Send a valid key in the Authorization header: Bearer, a space, then the key."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    413: _l("The request is too large."),
    422: _l("Some of what you sent is not valid: see errors."),
    429: _l("Too many requests. Please wait before trying again."),
    500: _l("Something went wrong. Nothing you saved has been lost."),
    503: _l("The service is busy. Nothing you saved has been lost: try again in a minute."),
}
RETRY_AFTER_OUTAGE = 30  # seconds, as the web pages say


def fail(code: int, message=None, errors: dict | None = None):
    """Stop the request with an API error; `errors` maps a field or question to messages."""
    data = {"message": message, "errors": errors}
    abort(code, **{key: value for key, value in data.items() if value})


def _flatten(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    """{field: [message]}, nested fields as `field.key` (marshmallow nests them)."""
    flat = {}
    for key, value in messages.items():
        name = prefix + ("body" if key == "_schema" else str(key))
        if isinstance(value, dict):
            flat |= _flatten(value, name + ".")
        elif isinstance(value, list | tuple):
            flat[name] = [str(message) for message in value]
        else:  # one message, e.g. a lazily translated one
            flat[name] = [str(value)]
    return flat


def _retry_after() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def json_error(error: HTTPException):
    if g.get("lang") is None:  # an unknown address: the API's own hooks did not run
        choose_language()
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    message = data.get("message") or MESSAGES.get(code) or MESSAGES[500 if code >= 500 else 400]
    body = {"code": code, "message": str(message)}
    if data.get("errors"):
        body["errors"] = _flatten(data["errors"])
    elif data.get("messages"):  # webargs: {location: {field: [message]}}
        body["errors"] = {
            name: messages
            for location in data["messages"].values()
            for name, messages in _flatten(location).items()
        }
    response = jsonify(body)
    response.status_code = code
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # e.g. Allow, on a 405
            response.headers[name] = value
    if code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    elif code == 429:
        response.headers["Retry-After"] = str(_retry_after())
    elif code == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_OUTAGE)
    return response


def database_error(error: DBAPIError):
    """An outage (locked, full, down, no schema) is a 503 the client can retry, with one
    log line naming the cause; any other database error is a bug: the usual 500."""
    if not is_outage(error):
        raise error
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.invalidate()
    g.writes_done = True
    log_database_error(log, error)
    return json_error(ServiceUnavailable())
