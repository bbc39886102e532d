"""Extension objects, created unbound and wired in create_app()."""

from flask import current_app
from flask import has_app_context
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .security import CSRFProtect

# Named constraints, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()


class AppLimiter(Limiter):
    """Flask-Limiter keeps one storage and one `enabled` per Limiter object, so in a
    process that builds several apps (the tests, bench/) the last app initialised would
    count for all of them, and one app built with RATELIMIT_ENABLED=False would switch
    limits off for every app built after it. Each app keeps its own here, as each
    gunicorn worker has its own."""

    def init_app(self, app) -> None:
        app.config.setdefault("RATELIMIT_ENABLED", True)  # never the previous app's
        super().init_app(app)
        if app.config["RATELIMIT_ENABLED"]:
            storage = (Limiter.storage.fget(self), Limiter.limiter.fget(self))
            app.extensions["rate_limits"] = storage

    @property
    def enabled(self) -> bool:
        if has_app_context():
            return bool(current_app.config.get("RATELIMIT_ENABLED", True))
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = value

    def _own(self, index: int, inherited):
        if has_app_context() and "rate_limits" in current_app.extensions:
            return current_app.extensions["rate_limits"][index]
        return inherited.fget(self)

    def _check_request_limit(self, callable_name=None, in_middleware=True) -> None:
        """A request to an endpoint that no limit covers (the landing page, static files,
        the dashboard) skips Flask-Limiter's check: resolving and evaluating no limits
        cost about a quarter of the landing page's CPU (bench/http.py)."""
        if self._covers(request.endpoint, request.blueprints):
            super()._check_request_limit(callable_name, in_middleware)

    def _covers(self, endpoint, blueprints) -> bool:
        """Whether any declared limit applies to the endpoint. Reads Flask-Limiter's
        registry of limits, which its version range in pyproject.toml keeps stable."""
        manager = self.limit_manager
        if manager._application_limits or manager._default_limits:
            return True
        view = current_app.view_functions.get(endpoint or "")
        return view is not None and (
            get_qualified_name(view) in manager._decorated_limits
            or any(name in manager._blueprint_limits for name in blueprints)
        )

    @property
    def storage(self):
        return self._own(0, Limiter.storage)

    @property
    def limiter(self):
        return self._own(1, Limiter.limiter)


# Limits are declared on the routes that need them (logins, token look-ups). The storage
# comes from RATELIMIT_STORAGE_URI: memory:// (the default) counts in each worker on its
# own; redis://... counts once for every worker and host (README, Configuration).
limiter = AppLimiter(key_func=get_remote_address, default_limits=[])
