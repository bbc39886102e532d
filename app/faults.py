"""What went wrong with the database, in words an operator can act on
(docs/SECURITY.md 2.7 item 20), and the free disk space /healthz reports."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import ProgrammingError

# (cause, words in the driver's message, line logged)
CAUSES = (
    (
        "disk_full",
        ("database or disk is full", "no space left on device", "could not extend file"),
        "Database write failed: the disk is full; free space where the database lives",
    ),
    (
        "locked",
        ("database is locked", "database table is locked", "lock timeout"),
        "Database lock not obtained within the busy timeout: another writer held it too long",
    ),
    (
        "schema_missing",
        ("no such table", "no such column", "undefinedtable", "does not exist"),
        "Database schema missing or out of date: run `flask db upgrade`",
    ),
    (
        "timeout",
        ("statement timeout", "querycanceled", "canceling statement", "timeout expired"),
        "Database did not answer in time (statement or connect timeout)",
    ),
    (
        "down",
        (
            "connection refused",
            "could not connect",
            "connection failed",
            "server closed the connection",
            "terminating connection",
            "connection is closed",
            "consuming input failed",
            "unable to open database file",
            "the database system is",
            "connection timeout",
        ),
        "Database server unreachable or its connection was lost",
    ),
)
UNKNOWN = ("unavailable", "Database unavailable")


def classify(error: BaseException) -> tuple[str, str]:
    """(cause, line to log) for a database error."""
    original = getattr(error, "orig", None) or error
    text = f"{type(original).__name__} {original}".lower()
    for cause, words, line in CAUSES:
        if any(word in text for word in words):
            return cause, line
    return UNKNOWN


def is_outage(error: BaseException) -> bool:
    """A ProgrammingError is a bug, unless the schema is missing: only then a 503."""
    if isinstance(error, ProgrammingError):
        return classify(error)[0] == "schema_missing"
    return isinstance(error, DBAPIError)


def log_database_error(logger, error: BaseException, where: str = "") -> str:
    cause, line = classify(error)
    original = getattr(error, "orig", None) or error
    logger.error(
        "%s%s [%s: %s]",
        f"{where}: " if where else "",
        line,
        type(original).__name__,
        str(original).strip().splitlines()[0][:200] if str(original).strip() else "",
    )
    return cause


def database_directory() -> Path:
    """Where the data lives on this host: the SQLite file's directory, else the instance
    folder (a server database's disk is watched on its own host)."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url[len("sqlite:///") :].split("?", 1)[0]).parent
    return Path(current_app.instance_path)


def disk_state() -> dict:
    minimum = current_app.config["DISK_FREE_MIN_MB"]
    try:
        free_mb = shutil.disk_usage(database_directory()).free // (1024 * 1024)
    except OSError:
        return {"free_mb": None, "ok": False}
    return {"free_mb": free_mb, "ok": free_mb >= minimum}
