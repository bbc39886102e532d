"""The Compromiso Migrante self-assessment (autodiagnóstico)."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from flask import Flask
from flask import abort
from flask import current_app

from . import config as settings
from . import database
from . import dbguard
from . import ratelimit
from . import redaction
from . import urls
from .database import tune_sqlite
from .engine import QuestionnaireError
from .engine import Registry
from .engine import load_directory
from .extensions import babel
from .extensions import csrf
from .extensions import db
from .extensions import limiter
from .extensions import login_manager
from .extensions import migrate
from .uploads import UploadRequest


def create_app(config: dict | None = None) -> Flask:
    """Create and configure the application; the only place that wires things."""
    config = dict(config or {})
    app = Flask(__name__, instance_path=config.pop("INSTANCE_PATH", None))
    app.request_class = UploadRequest  # a view that takes a file sets its own size limit
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings.FIXED)
    app.config.update(settings.from_environment(app.instance_path))
    app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.normalize_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    # A database server may drop idle connections: test each one before use. An
    # embedded SQLite file cannot, and the test would cost every request a query.
    # A server that does not answer fails a request within its timeouts (app/dbguard.py).
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", dbguard.engine_options(app.config))
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://")):
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS",
            ratelimit.redis_options(app.config["RATELIMIT_STORAGE_TIMEOUT"]),
        )
    app.config["SECRET_KEY"] = settings.resolve_secret_key(app.config, app.instance_path)
    app.config["BASE_URL"] = settings.resolve_base_url(app.config)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    urls.init_app(app)  # before the blueprints: `<int:...>` ids in the database's range
    init_database(app)
    init_i18n(app)
    csrf.init_app(app)
    init_questionnaires(app)

    from . import api
    from . import cli
    from . import compression
    from . import pages
    from . import security
    from .accounts import bp as accounts_bp
    from .admin import bp as admin_bp
    from .assess import bp as assess_bp
    from .assess import forms as assess_forms
    from .associations import bp as associations_bp
    from .associations import join_bp

    security.init_app(app)
    compression.init_app(app)
    pages.init_app(app)
    init_accounts(app)
    ratelimit.init_app(app)
    app.register_blueprint(assess_bp)
    assess_forms.init_app(app)  # step forms lent to a request go back when it ends
    app.register_blueprint(accounts_bp)
    app.register_blueprint(associations_bp)
    app.register_blueprint(join_bp)
    app.register_blueprint(admin_bp)
    api.init_app(app)  # /api/v1: the JSON API and its OpenAPI document
    cli.init_app(app)
    redaction.init_app(app)  # last: every module's logger exists now
    return app


def init_questionnaires(app: Flask) -> None:
    """Load every questionnaire once per process.

    An invalid questionnaire stops the web server from starting: better than
    serving wrong scores. Under a `flask` command it is logged instead, so
    that `questionnaire validate` can still run and explain every mistake.
    """
    try:
        registry = load_directory(Path(app.config["QUESTIONNAIRES_DIR"]))
    except QuestionnaireError as error:
        if click.get_current_context(silent=True) is None:
            raise
        app.logger.error("Invalid questionnaires:\n%s", error)
        registry = Registry([])
    app.extensions["questionnaires"] = registry


def init_database(app: Flask) -> None:
    from . import models  # noqa: F401  (registers the tables with the metadata)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "migrations"))
    with app.app_context():
        database.control_transactions(db.engine)
        if settings.is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"]):
            tune_sqlite(
                db.engine,
                app.config["SQLITE_BUSY_TIMEOUT_MS"],
                app.config["SQLITE_JOURNAL_SIZE_LIMIT_MB"] * 1024 * 1024,
            )
        else:
            dbguard.watch(db.engine, app.config)


def init_accounts(app: Flask) -> None:
    from .accounts import mail

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    limiter.init_app(app)
    mail.init_app(app)  # the e-mail queue; its sender thread starts with the first letter


def init_i18n(app: Flask) -> None:
    """Translations. The web server refuses to start without a compiled catalog of a
    configured language; a `flask` command (e.g. `translations update`) only warns."""
    from .i18n import missing_catalogs
    from .i18n import select_locale

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=app.config["TRANSLATIONS_DIR"],
    )
    missing = missing_catalogs(app.config["TRANSLATIONS_DIR"], app.config["LANGUAGES"])
    if missing:
        message = "Compiled translations missing (run `make compile`): " + ", ".join(missing)
        if click.get_current_context(silent=True) is None:
            raise settings.ConfigError(message)
        app.logger.warning(message)


def questionnaires():
    """The questionnaires loaded at start-up (a Registry)."""
    return current_app.extensions["questionnaires"]


def default_questionnaire():
    """The newest version of the questionnaire the start page offers (404 if not loaded)."""
    questionnaire = questionnaires().get(current_app.config["QUESTIONNAIRE"])
    if questionnaire is None:
        abort(404)
    return questionnaire


def pinned_questionnaire(record, kind: str | None = None):
    """The questionnaire version an assessment or a campaign is pinned to; 404 when that
    version is no longer loaded (its file was removed), logged for the operator naming
    the `kind` of record (by default its class)."""
    questionnaire = questionnaires().get(record.questionnaire_id, record.questionnaire_version)
    if questionnaire is None:
        current_app.logger.error(
            "%s %s needs %s v%s, which is not loaded",
            kind or type(record).__name__,
            record.id,
            record.questionnaire_id,
            record.questionnaire_version,
        )
        abort(404)
    return questionnaire
