"""gunicorn settings for `make run` and deployments: access logs without secrets.

Assessment links, invitation codes and reset links carry their secret in the
URL path; the access log writes a redacted path instead (docs/SECURITY.md T21).
"""

import re

from gunicorn.glogging import Logger

SECRET_IN_PATH = re.compile(r"(/a/|/c/|/reset/)[^/?\s]+")

# Import the app once in the master: workers start at once and share its memory.
preload_app = True
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r", "f"):
            if key in atoms and isinstance(atoms[key], str):
                atoms[key] = SECRET_IN_PATH.sub(r"\1…", atoms[key])
        atoms["q"] = ""
        return atoms


logger_class = RedactingLogger
