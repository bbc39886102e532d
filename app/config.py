"""Settings from environment variables, with safe defaults.

Every setting can also be given to `create_app(config)` as a mapping, which
wins over the environment (the tests do this).
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("es", "ht", "en")
DEFAULT_LANGUAGE = "es"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_KEY_LENGTH = 32

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """The app cannot start safely with these settings."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def from_environment(instance_path: str) -> dict:
    """Settings read from the environment (see the table in README.md)."""
    default_db = "sqlite:///" + os.path.join(instance_path, "autodiagnostico.sqlite")
    return {
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(
            os.environ.get("DATABASE_URL") or default_db
        ),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "QUESTIONNAIRES_DIR": os.environ.get("QUESTIONNAIRES_DIR")
        or str(PROJECT_ROOT / "questionnaires"),
        "QUESTIONNAIRE": os.environ.get("QUESTIONNAIRE", "compromiso-migrante"),
        "TRANSLATIONS_DIR": str(PROJECT_ROOT / "translations"),
        "LANGUAGES": LANGUAGES,
        "BABEL_DEFAULT_LOCALE": DEFAULT_LANGUAGE,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "PROXY_FIX_HOPS": _int("PROXY_FIX_HOPS", 0),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "RETENTION_DAYS": _int("RETENTION_DAYS", 730),
        "SQLITE_BUSY_TIMEOUT_MS": _int("SQLITE_BUSY_TIMEOUT_MS", 5000),
        # Faults that must not become a 500 or a hung worker (docs/SECURITY.md 2.7, 17-20).
        "SQLITE_JOURNAL_SIZE_LIMIT_MB": _int("SQLITE_JOURNAL_SIZE_LIMIT_MB", 64),
        "DATABASE_CONNECT_TIMEOUT": _int("DATABASE_CONNECT_TIMEOUT", 3),
        "DATABASE_STATEMENT_TIMEOUT_MS": _int("DATABASE_STATEMENT_TIMEOUT_MS", 5000),
        "RATELIMIT_STORAGE_TIMEOUT": float(os.environ.get("RATELIMIT_STORAGE_TIMEOUT") or 0.5),
        "RATELIMIT_STORAGE_RETRY_SECONDS": _int("RATELIMIT_STORAGE_RETRY_SECONDS", 10),
        "DISK_FREE_MIN_MB": _int("DISK_FREE_MIN_MB", 200),
        "TOKEN_MISS_LIMIT": os.environ.get("TOKEN_MISS_LIMIT", "20 per 10 minutes"),
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "10 per 15 minutes"),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        # What an anonymous visitor can make the server spend (docs/SECURITY.md T26).
        "PDF_LIMIT_PER_ADDRESS": os.environ.get("PDF_LIMIT_PER_ADDRESS", "10 per minute"),
        "NEW_ASSESSMENT_LIMIT_PER_ADDRESS": os.environ.get(
            "NEW_ASSESSMENT_LIMIT_PER_ADDRESS", "20 per hour"
        ),
        "JOIN_LIMIT_PER_ADDRESS": os.environ.get("JOIN_LIMIT_PER_ADDRESS", "10 per hour"),
        # The JSON API (/api/v1): its calls per address and per key (or assessment token),
        # the largest request body, and the web origins allowed to call it (CORS; none).
        "API_LIMIT_PER_ADDRESS": os.environ.get("API_LIMIT_PER_ADDRESS", "120 per minute"),
        "API_LIMIT_PER_KEY": os.environ.get("API_LIMIT_PER_KEY", "60 per minute"),
        "API_MAX_BODY_KB": _int("API_MAX_BODY_KB", 64),
        "API_CORS_ORIGINS": [
            o.strip() for o in os.environ.get("API_CORS_ORIGINS", "").split(",") if o.strip()
        ],
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", 587),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "no-reply@localhost"),
        "TRUSTED_HOSTS": [
            h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()
        ]
        or None,
        # The address links in e-mails and on staff pages are built on, never the
        # request's Host header (docs/SECURITY.md T20).
        "BASE_URL": os.environ.get("BASE_URL") or None,
    }


# Fixed settings: safe defaults that are not meant to be switched off.
FIXED = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    # Tokens live as long as the session: a user reading a long page must not
    # lose a save to an expired token (docs/SECURITY.md 2.5).
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 256 * 1024,
    # An association's upload of offline submissions (app/associations/imports.py): a
    # workshop's, up to about 2,000 submissions of the shipped questionnaire, imported
    # well within a worker's request timeout; larger files go through the command.
    "IMPORT_MAX_BYTES": 2 * 1024 * 1024,
    # Every validator carries our own translated message; WTForms' catalogs (which
    # have no Haitian Creole) would only be loaded again on every request.
    "WTF_I18N_ENABLED": False,
    "JSON_SORT_KEYS": False,
    # A rate-limit storage error is never a 500 (app/ratelimit.py answers first).
    "RATELIMIT_SWALLOW_ERRORS": True,
}


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def resolve_base_url(config: dict) -> str | None:
    """BASE_URL without its trailing slash, checked; None keeps links on the request's host.

    Without it, links follow the address the browser used: what `make run` needs with
    no configuration (the embedded SQLite file, one machine), and safe behind
    TRUSTED_HOSTS, which refuses any other Host. A server database means a deployment
    that others reach: there a forged Host header could point a reset link elsewhere,
    so refuse to start.
    """
    base = (config.get("BASE_URL") or "").strip()
    if base:
        parts = urlsplit(base)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
        ):
            raise ConfigError(
                f"BASE_URL must be an http(s) address such as https://autodiagnostico.example.cl, "
                f"not {base!r}"
            )
        return base.rstrip("/")
    if not is_sqlite(config["SQLALCHEMY_DATABASE_URI"]) and not config.get("TRUSTED_HOSTS"):
        raise ConfigError(
            "BASE_URL is not set. With a server database, links in e-mails and on staff pages "
            "must not be built from the request's Host header: set BASE_URL to the public "
            "address (e.g. https://autodiagnostico.example.cl), or TRUSTED_HOSTS to the host "
            "names the app answers to."
        )
    return None


def resolve_secret_key(config: dict, instance_path: str) -> str:
    """Return the secret key, generating one only for the embedded SQLite set-up.

    With a server database several app servers share sessions, so a key
    generated on one host would silently break the others: refuse to start.
    """
    key = config.get("SECRET_KEY")
    if key:
        if len(key) < MIN_SECRET_KEY_LENGTH and not config.get("TESTING"):
            raise ConfigError(
                f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters; generate one "
                "with: python -c 'import secrets; print(secrets.token_hex())'"
            )
        return key
    if not is_sqlite(config["SQLALCHEMY_DATABASE_URI"]):
        raise ConfigError(
            "SECRET_KEY is not set. With a server database it must be set in the environment "
            "(python -c 'import secrets; print(secrets.token_hex())')."
        )
    path = Path(instance_path) / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    log.warning("Generated a new SECRET_KEY in %s (mode 0600); keep this file private.", path)
    return key
