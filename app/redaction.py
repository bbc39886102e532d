"""Logs without secrets: the links that carry one are redacted (docs/SECURITY.md T21).

An assessment link (`/<lang>/a/<token>/...`), a campaign invitation (`/<lang>/c/<code>`)
and a reset link (`/<lang>/associations/reset/<token>`) are the keys they open. Flask logs
an unhandled exception as "Exception on <path> [GET]" with a traceback, and the
development server and gunicorn log request lines: each would put the key in the log.
One filter, installed by create_app on the loggers the app controls, replaces the
segment after `/a/`, `/c/` and `/reset/` with `…` and eight hex digits of its SHA-256:
lines about one link can still be told apart, the link cannot be rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import re

# `/a/new` starts an assessment: the one word after /a/ that is a page, not a key.
SECRET_IN_PATH = re.compile(r"(/(?:a|c|reset)/)(?!new(?:[/?#\s\"']|$))(?!…)([^/?#\s\"'<>\[\]]+)")
# The loggers that may write a request's path: the app's own, the development server's
# and gunicorn's (its access log is also redacted by gunicorn.conf.py).
LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access")
PACKAGE = __name__.split(".")[0]


def marker(secret: str) -> str:
    return "…" + hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()[:8]


def redact(text: str) -> str:
    return SECRET_IN_PATH.sub(lambda m: m.group(1) + marker(m.group(2)), text)


class RedactSecrets(logging.Filter):
    """Rewrites a record in place before any handler sees it: its message, its traceback
    (formatted now, and the exception object dropped, so that no handler formats it
    again from the original) and its stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


FILTER = RedactSecrets()


def init_app(app) -> None:
    """Install the filter on the app's logger, every logger of this package (a filter on
    a logger does not apply to its children's records) and LOGGERS."""
    names = [app.logger.name, *LOGGERS]
    names += [n for n in logging.root.manager.loggerDict if n.startswith(PACKAGE + ".")]
    for name in names:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
