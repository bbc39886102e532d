"""The self-assessment journey: profile, steps, review, results."""

from flask import Blueprint

bp = Blueprint("assess", __name__, url_prefix="/<lang>/a")

from . import views  # noqa: E402,F401  (registers the routes)
