"""Trade associations: accounts, campaigns, member invitations and dashboards."""

from flask import Blueprint

from ..security import limit_token_guessing

bp = Blueprint("associations", __name__, url_prefix="/<lang>/associations")
# `/<lang>/c/<code>` and the language-free `/c/<code>` that invitations hand out.
join_bp = Blueprint("join", __name__)
limit_token_guessing(join_bp)

from . import api_keys  # noqa: E402,F401  (registers the routes)
from . import imports  # noqa: E402,F401
from . import join  # noqa: E402,F401
from . import views  # noqa: E402,F401
