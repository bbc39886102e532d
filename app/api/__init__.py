"""The JSON API, /api/v1 (README, "JSON API"): the questionnaires; anonymous
assessments, each opened by its private token; and an association's campaign figures,
opened by one of its API keys. Both keys travel as `Authorization: Bearer`, never in
a URL. The OpenAPI 3.1 document is /api/v1/openapi.json; /api/v1/docs shows it as a
page of the site.

flask-smorest builds the document from the routes and their marshmallow schemas
(schemas.py) and reads request bodies with them; Schemathesis fuzzes every operation
against the document (tests/test_api_fuzz.py). The same protections as the web: rate
limits per address and per key, a body size limit, JSON errors and never a 500
(errors.py), no cookie (app/security.py opens no session here), no CSRF (no cookie to
ride on), `Cache-Control: no-store` (app/security.py), CORS only for configured origins.
"""

from __future__ import annotations

from http import HTTPStatus

import flask
import flask_smorest
from flask import current_app
from flask import request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import ProgrammingError
from werkzeug.exceptions import HTTPException

from ..extensions import csrf
from ..extensions import limiter
from . import errors
from . import schemas
from .auth import bearer
from .auth import credential_or_address
from .language import choose_language

PREFIX = "/api/v1"
VERSION = "1.0"
bp = flask_smorest.Blueprint("api", __name__, url_prefix=PREFIX)
# The documentation page: a page of the site, not an operation of the document.
pages_bp = flask.Blueprint("api_pages", __name__, url_prefix=PREFIX)
pages_bp.before_request(choose_language)

ALWAYS = (400, 429, 503)  # any call: a NUL byte in its query, a rate limit, an outage
LANGUAGE_PARAMETER = {
    "description": schemas.N_(
        "The language of texts and messages (es, ht, en); without it, Accept-Language."
    ),
    "schema": {"type": "string", "enum": ["es", "ht", "en"]},
}
SECURITY_SCHEMES = {
    "assessmentToken": schemas.N_(
        "The private token POST /assessments returned: the only key to one assessment."
    ),
    "apiKey": schemas.N_(
        "An API key an association creates on its campaigns page: its own campaigns only."
    ),
}


def documented(*codes, token=False, key=False, summary: str, description: str):
    """An operation's words, who may call it (`token`: an assessment's private token,
    `key`: an association's API key) and the error statuses it answers besides ALWAYS."""
    security = [{"assessmentToken": []}] if token else [{"apiKey": []}] if key else []

    def decorate(view):
        for code in sorted({*codes, *ALWAYS}):
            view = bp.alt_response(code, response=HTTPStatus(code).name)(view)
        return bp.doc(summary=summary, description=description, security=security)(view)

    return decorate


class Api(flask_smorest.Api):
    """flask-smorest's Api, with its errors kept to the API: its own handler would make
    every error page of the site JSON. Each operation lists its own error statuses."""

    ERROR_SCHEMA = schemas.Error
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """errors.json_error answers for the blueprint (below) and for unknown
        addresses under /api/ (app/pages.py)."""


bp.register_error_handler(HTTPException, errors.json_error)
bp.register_error_handler(OperationalError, errors.database_error)
bp.register_error_handler(ProgrammingError, errors.database_error)
# Counted over every operation together: per address, per key (or token), and unknown
# keys or tokens (401s) per address, as the web counts unknown links.
limiter.shared_limit(lambda: current_app.config["API_LIMIT_PER_ADDRESS"], scope="api-address")(bp)
limiter.shared_limit(
    lambda: current_app.config["API_LIMIT_PER_KEY"],
    key_func=credential_or_address,
    exempt_when=lambda: bearer() is None,
    scope="api-key",
)(bp)
limiter.shared_limit(
    lambda: current_app.config["TOKEN_MISS_LIMIT"],
    deduct_when=lambda response: response.status_code == 401,
    scope="api-token-misses",
)(bp)


@bp.before_request
def api_request():
    """The language of texts and messages, the body size limit, and a body that the
    database can store: JSON without NUL characters or lone surrogates."""
    choose_language()
    # The site's MAX_CONTENT_LENGTH still bounds a body sent without its length.
    if (request.content_length or 0) > current_app.config["API_MAX_BODY_KB"] * 1024:
        errors.fail(413)
    if request.is_json and request.content_length != 0:
        try:
            body = request.get_json()  # unreadable JSON: 400, too large: 413
        except RecursionError:
            errors.fail(400)
        if not storable(body):
            errors.fail(400)


def storable(body) -> bool:
    """Every string of a JSON body, keys included, without NUL (the web refuses one in
    any field) and encodable as UTF-8 (a lone surrogate escape is not). Iterative: a
    deeply nested body cannot exhaust the stack."""
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return False
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


def allow_origins(response):
    """CORS, off unless API_CORS_ORIGINS names the calling origin: no cookies ride on
    these calls (keys travel in a header), so no credentials are allowed either."""
    origin = request.headers.get("Origin")
    if not request.path.startswith(PREFIX + "/"):
        return response
    response.vary.add("Origin")
    if origin and origin in current_app.config["API_CORS_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After, WWW-Authenticate"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT"
            response.headers["Access-Control-Allow-Headers"] = (
                "Authorization, Content-Type, Accept-Language"
            )
            response.headers["Access-Control-Max-Age"] = "600"
    return response


def init_app(app: flask.Flask) -> None:
    """One Api (and OpenAPI document) per app: the tests build many apps."""
    app.config.update(OPENAPI_URL_PREFIX=PREFIX, OPENAPI_JSON_PATH="openapi.json")
    api = Api(
        app,
        spec_kwargs={
            "title": "Compromiso Migrante self-assessment API",
            "version": VERSION,
            "openapi_version": "3.1.0",
            "info": {
                "description": schemas.N_(
                    "Start and answer the self-assessment, read its result, and read your "
                    "campaigns' figures. Texts and messages come in es, ht or en."
                ),
                "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
            },
        },
    )
    for name, description in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(
            name, {"type": "http", "scheme": "bearer", "description": description}
        )
    api.spec.components.parameter("lang", "query", LANGUAGE_PARAMETER)
    api.register_blueprint(bp, parameters=["lang"])
    app.register_blueprint(pages_bp)
    csrf.exempt(bp)
    app.after_request(allow_origins)


from . import assessments  # noqa: E402,F401  (registers the routes)
from . import campaigns  # noqa: E402,F401
from . import docs  # noqa: E402,F401
from . import questionnaires  # noqa: E402,F401
