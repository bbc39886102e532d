"""Language routing, the landing page, health check and error pages."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint
from flask import Flask
from flask import abort
from flask import current_app
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import ProgrammingError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import SecurityError

from . import default_questionnaire
from . import faults
from . import i18n
from . import markdown
from . import ratelimit
from .cache import landing_pages
from .extensions import db
from .reporting.aggregates import format_count
from .reporting.aggregates import shown_share

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(pull_language)
    app.url_defaults(add_language)
    app.context_processor(template_helpers)
    # The same for every request: globals, so that macros imported without the render's
    # context (the cached question widgets) can format numbers in the page's language.
    app.jinja_env.globals.update(
        languages=app.config["LANGUAGES"],
        language_name=i18n.language_name,
        format_number=i18n.format_number,
        format_percentage=i18n.format_percentage,
        format_day=i18n.format_day,
        format_count=format_count,
        shown_share=shown_share,
    )
    app.add_template_filter(markdown.markdown, "md")
    app.add_template_filter(markdown.inline, "inline")
    app.register_blueprint(bp)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(ProgrammingError, database_unavailable)  # schema missing


def pull_language(endpoint, values):
    """`/<lang>/...`: the first path segment selects the language."""
    if values and "lang" in values:
        lang = values.pop("lang")
        if lang not in current_app.config["LANGUAGES"]:
            abort(404)
        g.lang = lang


def add_language(endpoint, values):
    if "lang" not in values and current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        values["lang"] = i18n.current_language()


def template_helpers():
    return {
        "current_language": i18n.current_language(),
        "switch_language_url": switch_language_url,
        **i18n.template_gettext(),
    }


def switch_language_url(lang: str) -> str:
    """The same page in another language."""
    if g.get("error_page"):
        # An error page never echoes the URL (a mistyped token must not show up in it).
        return url_for("pages.landing", lang=lang)
    if request.endpoint and request.url_rule and "lang" in request.url_rule.arguments:
        return url_for(request.endpoint, **dict(request.view_args or {}), lang=lang)
    return url_for("pages.landing", lang=lang)


@bp.get("/")
def root():
    return redirect(
        url_for("pages.landing", lang=i18n.best_language(current_app.config["LANGUAGES"]))
    )


@bp.get("/favicon.ico")
def favicon():
    """Where browsers look for an icon when a page names none (the PDF, a proxy's error)."""
    return redirect(url_for("static", filename="favicon.svg"))


def shows_personal_parts() -> bool:
    """Whether the page drawn for this request holds something of its visitor besides
    a token: a flashed message, or a logged-in user's account in the footer. Such a page
    is never kept for others (the landing page, assessment pages with holes).

    Flask-Login finds a user only by the `_user_id` a login puts in the session (the app
    sets no request loader and never issues a remember-me cookie): a session without it
    does not pay for the user loader."""
    if session.get("_flashes"):
        return True
    return "_user_id" in session and current_user.is_authenticated


@bp.get("/<lang>/")
def landing():
    """The start page. The same for every anonymous visitor without messages, so it is
    rendered once per language and process: the page campaign links send crowds to."""
    personal = shows_personal_parts()
    lang = i18n.current_language()
    page = None if personal else landing_pages.get(lang)
    if page is not None:
        g.shared_page = True  # the same bytes for every visitor: compress them once
        return page
    questionnaire = default_questionnaire()
    page = render_template(
        "landing.html",
        questionnaire=questionnaire,
        content=i18n.content_for(questionnaire),
        retention_days=current_app.config["RETENTION_DAYS"],
    )
    if not personal:
        landing_pages.put(lang, page)
    return page


@bp.get("/healthz")
def healthz():
    """Each dependency's state. 200 while the app can serve (even "degraded": no
    shared rate limits, or little disk left); 503 only when the database is down."""
    database = "ok"
    try:
        db.session.execute(sa.text("SELECT 1"))
    except DBAPIError as error:
        faults.log_database_error(log, error, "Health check")
        database = "unavailable"
        try:
            db.session.rollback()
        except DBAPIError:
            db.session.invalidate()
    rate_limit_storage = ratelimit.storage_state()
    disk = faults.disk_state()
    if database != "ok":
        status, code = "unavailable", 503
    elif rate_limit_storage == "unavailable" or not disk["ok"]:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return jsonify(
        status=status, database=database, rate_limit_storage=rate_limit_storage, disk=disk
    ), code


ERROR_TITLES = {
    400: _l("This request could not be understood"),
    403: _l("You cannot open this page"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    413: _l("What you sent is too large"),
    429: _l("Too many attempts"),
    503: _l("The service is busy"),
}
ERROR_MESSAGES = {
    400: _l("Please go back, check what you entered and try again."),
    403: _l("This page is not available to you."),
    404: _l("Check the address. If you followed your assessment link, copy it again in full."),
    405: _l("Please use the buttons on the page."),
    413: _l("Please shorten your answers and try again."),
    429: _l("Please wait a few minutes before trying again."),
    503: _l("Nothing you saved has been lost. Please try again in a minute."),
}


def render_error(code: int, message: str | None = None):
    """The error page; `message` replaces the standard one (e.g. an assessment gone)."""
    g.error_page = True
    if code not in ERROR_TITLES:
        code = 500 if code >= 500 else 400
    title = str(ERROR_TITLES.get(code, _l("Something went wrong")))
    message = message or str(
        ERROR_MESSAGES.get(
            code, _l("We could not complete your request. Nothing you saved has been lost.")
        )
    )
    response = current_app.make_response(
        (render_template("error.html", code=code, title=title, message=message), code)
    )
    if code in (429, 503):
        response.headers["Retry-After"] = "60"
    return response


def http_error(error: HTTPException):
    if request.path.startswith("/api/"):  # an unknown API address or method: JSON too
        from .api.errors import json_error

        return json_error(error)
    if isinstance(error, SecurityError):
        # An untrusted Host header: no page can be built for it (docs/SECURITY.md T20).
        return current_app.response_class(_("This request could not be understood"), 400)
    if isinstance(error, CSRFError):
        return render_error(400)
    return render_error(error.code or 500, getattr(error, "page_message", None))


def database_unavailable(error: DBAPIError):
    """Any page whose database fails: 503, one log line naming the cause. A form posted
    meanwhile (join, review) comes back filled in, with a button to send it again."""
    if not faults.is_outage(error):
        raise error  # a bug, not an outage: the usual 500
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.invalidate()
    faults.log_database_error(log, error)
    if request.method == "POST" and request.endpoint in RESENDABLE:
        return render_outage()
    return render_error(503)


# POSTs whose 503 page offers to send the same fields again (never a password).
RESENDABLE = frozenset({"assess.review", "join.join"})


def render_outage(status: int = 503):
    """The fields just posted, as hidden inputs of a form with a fresh CSRF token (which
    needs no database), and a "try again" button."""
    g.error_page = True
    fields = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name != "csrf_token" and "password" not in name.lower()
    ]
    response = current_app.make_response(
        (render_template("assess/outage.html", fields=fields, action=request.path), status)
    )
    response.headers["Retry-After"] = "30"
    return response


@bp.get("/<lang>/privacy")
def privacy():
    return render_template("privacy.html", retention_days=current_app.config["RETENTION_DAYS"])


@bp.get("/<lang>/questionnaire")
def paper():
    """The blank questionnaire to print and discuss before answering online."""
    from .assess.forms import option_choices
    from .assess.forms import special_choices
    from .paper import describe

    questionnaire = default_questionnaire()
    content = i18n.content_for(questionnaire)
    return render_template(
        "paper.html",
        questionnaire=questionnaire,
        content=content,
        choices=lambda q: option_choices(q, content) + special_choices(q),
        condition=lambda q: describe(q.when, questionnaire, content) if q.when else "",
    )
