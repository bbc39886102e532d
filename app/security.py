"""Response headers and request guards applied to every request."""

from __future__ import annotations

import time
from datetime import UTC
from datetime import datetime

from flask import Flask
from flask import abort
from flask import request
from flask import session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Assessment tokens live in URLs: never send them to another site.
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HEADER_ITEMS = list(HEADERS.items())
HSTS = "max-age=31536000; includeSubDomains"
# The JSON API authenticates every call by its Authorization header: no session there.
SESSIONLESS_PATH = "/api/"


class AbsoluteSessionInterface(SecureCookieSessionInterface):
    """A logged-in session's cookie expires PERMANENT_SESSION_LIFETIME after the login
    (`login_at`, set by app/accounts/auth.py: start_session), not after the last request:
    refreshing the cookie on each request never moves its end (ASVS 7.3.2)."""

    def open_session(self, app, request):
        """None under SESSIONLESS_PATH: a null session, so an API response never reads
        or sets a cookie, even for a browser that holds a logged-in one."""
        if request.path.startswith(SESSIONLESS_PATH):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_signing_serializer(self, app):
        """Built once for the app's keys (Flask builds one twice a request). The
        interface belongs to one app (`init_app`), so a change of key builds it again."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if getattr(self, "_keys", None) != keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
        return self._serializer

    def get_expiration_time(self, app, session):
        login_at = session.get("login_at")
        if session.permanent and isinstance(login_at, int):
            ends = login_at + app.permanent_session_lifetime.total_seconds()
            return datetime.fromtimestamp(ends, UTC)
        return super().get_expiration_time(app, session)


def init_app(app: Flask) -> None:
    if app.config["SESSION_COOKIE_SECURE"]:
        # ASVS 3.3.3: a __Host- cookie is sent only over HTTPS, to this host, for all paths.
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
    app.session_interface = AbsoluteSessionInterface()
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # Only behind a known number of proxies: a wrong count lets clients spoof
        # their address and scheme (flask docs, "Tell Flask it is Behind a Proxy").
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def reject_nul_bytes():
        # Indico's guard: a NUL byte has no business in a form or a URL.
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.values.lists()
        ):
            abort(400)

    @app.before_request
    def end_idle_sessions():
        """Accounts are logged out after SESSION_IDLE_MINUTES without a request (ASVS 7.3.1),
        and PERMANENT_SESSION_LIFETIME (12 h) after the login, however active (ASVS 7.3.2).
        A session without `login_at` predates it: it ends too."""
        if "_user_id" not in session:
            return
        now = int(time.time())
        lifetime = app.permanent_session_lifetime.total_seconds()
        if now - session.get("seen", now) > app.config["SESSION_IDLE_MINUTES"] * 60:
            session.clear()
        elif now - session.get("login_at", 0) >= lifetime:
            session.clear()
        else:
            session["seen"] = now

    @app.after_request
    def set_security_headers(response):
        if "Content-Security-Policy" in response.headers:  # a view chose some: keep them
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
        else:  # one list appended: a setdefault each cost ~16 us a request (bench/http.py)
            response.headers.extend(HEADER_ITEMS)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static":
            # Answers and tokens must not stay in shared or proxy caches.
            response.headers["Cache-Control"] = "no-store"
        return response


def limit_token_guessing(blueprint) -> None:
    """Many unknown links from one address look like guessing: answer 429 for a while.
    Only 404s count, so an organisation using its own link is never slowed down.
    Called once per blueprint, at import; each blueprint counts on its own.

    Checked here, in Flask-Limiter's storage and strategy (so Redis and its circuit
    breaker count too), rather than as a Flask-Limiter blueprint limit: that made
    every page of the blueprint pay for resolving its limits (bench/http.py)."""
    from flask import current_app
    from flask_limiter.util import get_remote_address
    from limits import parse

    from .extensions import limiter

    scope = f"token-misses-{blueprint.name}"

    def counted():
        if not limiter.enabled:
            return None
        return parse(current_app.config["TOKEN_MISS_LIMIT"]), scope, get_remote_address()

    @blueprint.before_request
    def refuse_guessing():
        limit = counted()
        if limit is not None and not limiter.limiter.test(*limit):
            abort(429)

    @blueprint.after_request
    def count_unknown_links(response):
        if response.status_code == 404 and (limit := counted()) is not None:
            limiter.limiter.hit(*limit)
        return response
