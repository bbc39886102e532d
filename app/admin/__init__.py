"""Programme staff: approve associations, national overview, versions in use."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/<lang>/admin")

from . import views  # noqa: E402,F401  (registers the routes)
