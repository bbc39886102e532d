"""The self-assessment journey: profile, steps, review, results."""

from flask import Blueprint

from ..security import limit_token_guessing

bp = Blueprint("assess", __name__, url_prefix="/<lang>/a")
limit_token_guessing(bp)

from . import views  # noqa: E402,F401  (registers the routes)
