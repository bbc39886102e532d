"""Response headers and request guards applied to every request."""

from __future__ import annotations

import itertools
import time
from datetime import UTC
from datetime import datetime
from itertools import chain

import flask_wtf.csrf
from flask import Flask
from flask import abort
from flask import current_app
from flask import g
from flask import request
from flask import session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from flask_wtf.csrf import same_origin
from itsdangerous import BadSignature
from werkzeug.middleware.proxy_fix import ProxyFix

from .cache import signed_csrf_tokens
from .cache import verified_sessions

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


# Session values that no request can change in place: a kept session is shared.
IMMUTABLE_VALUES = (str, int, float, bool, type(None))


class AbsoluteSessionInterface(SecureCookieSessionInterface):
    """A logged-in session's cookie expires PERMANENT_SESSION_LIFETIME after the login
    (`login_at`, set by app/accounts/auth.py: start_session), not after the last request:
    refreshing the cookie on each request never moves its end (ASVS 7.3.2)."""

    _generations = itertools.count()

    def open_session(self, app, request):
        """None under SESSIONLESS_PATH: a null session, so an API response never reads
        or sets a cookie, even for a browser that holds a logged-in one.

        Flask's, but a cookie verified once is not verified again while the keys stay
        the same (cache.VERIFIED_SESSIONS): its age is still checked, as itsdangerous
        does, on every request."""
        if request.path.startswith(SESSIONLESS_PATH):
            return self.make_null_session(app)
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        serializer = self.get_signing_serializer(app)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (self._generation, cookie)
        verified = verified_sessions.get(key)
        if verified is None:
            try:
                data, signed_at = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
            except BadSignature:  # forged, signed with a retired key, or expired
                return self.session_class()
            verified = (data, int(signed_at.timestamp()))
            if all(isinstance(value, IMMUTABLE_VALUES) for value in data.values()):
                verified_sessions.put(key, verified)
        data, signed_at = verified
        if not 0 <= int(time.time()) - signed_at <= max_age:
            return self.session_class()
        return self.session_class(data)

    def get_signing_serializer(self, app):
        """Built once for the app's keys (Flask builds one twice a request). The
        interface belongs to one app (`init_app`), so a change of key builds it again,
        in a new generation of verified cookies."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if getattr(self, "_keys", None) != keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
            self._generation = next(self._generations)
        return self._serializer

    def get_expiration_time(self, app, session):
        login_at = session.get("login_at")
        if session.permanent and isinstance(login_at, int):
            ends = login_at + app.permanent_session_lifetime.total_seconds()
            return datetime.fromtimestamp(ends, UTC)
        return super().get_expiration_time(app, session)


def csrf_token() -> str:
    """Flask-WTF's signed CSRF token for this session (generate_csrf), signed once per
    worker: tokens have no time limit (WTF_CSRF_TIME_LIMIT), so the signed form of a
    session's token never changes (cache.SIGNED_CSRF_TOKENS). Templates call it as
    `csrf_token()`."""
    if "csrf_token" not in g:  # Flask-WTF's place for it (WTF_CSRF_FIELD_NAME)
        raw = session.get("csrf_token")
        signed = signed_csrf_tokens.get((current_app.secret_key, raw)) if raw else None
        if signed is None:
            signed = generate_csrf()  # makes the session's token if it has none
            signed_csrf_tokens.put((current_app.secret_key, session["csrf_token"]), signed)
        g.csrf_token = signed
    return g.csrf_token


class CSRFProtect(flask_wtf.csrf.CSRFProtect):
    """Flask-WTF's, but a posted token equal to the signed token this worker keeps for the
    session's raw one (cache.SIGNED_CSRF_TOKENS: signed here, or verified here before) is
    accepted without verifying its signature again: that was ~5 % of a page save. With
    no time limit (WTF_CSRF_TIME_LIMIT) the outcome is the same: the signature held for
    this raw token under this key. Flask-WTF's protect() has no hook for it, so its last
    step (the referrer of a secure post) is repeated here; any other token takes
    Flask-WTF's own path, and one it accepts is kept."""

    def protect(self, apply_exemptions=False):
        config = current_app.config
        if request.method not in config["WTF_CSRF_METHODS"]:
            return  # as Flask-WTF's: nothing to check (and the session is not touched)
        posted = self._get_csrf_token() if config["WTF_CSRF_TIME_LIMIT"] is None else None
        raw = session.get(config["WTF_CSRF_FIELD_NAME"])
        if posted is None or raw is None:
            return super().protect(apply_exemptions)
        key = (current_app.secret_key, raw)
        if posted != signed_csrf_tokens.get(key):
            super().protect(apply_exemptions)
            if g.get("csrf_valid"):
                signed_csrf_tokens.put(key, posted)
            return None
        if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True


def holds_nul(multidict) -> bool:
    """Whether a NUL byte is in any key or value: one join, scanned once."""
    return "\x00" in "".join(chain(multidict, chain.from_iterable(multidict.listvalues())))


def init_app(app: Flask) -> None:
    from limits import parse

    app.jinja_env.globals["csrf_token"] = csrf_token  # instead of CSRFProtect's
    # Read once: parse() runs regular expressions, and every assessment page checks it.
    app.extensions["token_miss_limit"] = parse(app.config["TOKEN_MISS_LIMIT"])
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
        if "\x00" in request.path or holds_nul(request.args):
            abort(400)
        if request.method != "GET" and holds_nul(request.form):  # as request.values reads
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
    from flask_limiter.util import get_remote_address

    from .extensions import limiter

    scope = f"token-misses-{blueprint.name}"

    def counted():
        if not limiter.enabled:
            return None
        return current_app.extensions["token_miss_limit"], scope, get_remote_address()

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
