"""T12, T13, T21: security headers on every response, including errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.security.conftest import all_rules

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def assert_security_headers(response, path):
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp, (path, directive)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_headers_on_every_get_route_and_error(world, client):
    paths = [world.url_for_rule(rule) for rule in all_rules(world.app, "GET")]
    paths += ["/es/does-not-exist", "/xx/", "/es/a/unknown-token/"]
    for path in paths:
        response = client.get(path)
        response.close()
        assert_security_headers(response, path)
        if not path.startswith("/static/"):
            assert response.headers["Cache-Control"] == "no-store", path


def test_headers_on_405_and_413(client):
    assert_security_headers(client.delete("/es/"), "DELETE /es/")
    big = client.post("/es/a/new", data={"x": "a" * 300_000})
    assert big.status_code == 413
    assert_security_headers(big, "413")


def test_hsts_and_secure_cookie_over_https(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    response = client.get("/es/a/new", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    for flag in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
        assert flag in cookie


def test_no_hsts_over_plain_http(client):
    response = client.get("/es/")
    assert "Strict-Transport-Security" not in response.headers


def test_session_cookie_flags(client):
    cookie = client.get("/es/a/new").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_proxy_headers_are_ignored_unless_configured(make_app):
    plain = make_app().test_client()
    response = plain.get("/es/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    behind_proxy = make_app(PROXY_FIX_HOPS=1).test_client()
    response = behind_proxy.get("/es/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script_or_style(template):
    """CSP without 'unsafe-inline' would block them; keep the pages working."""
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
    assert "<style" not in text
    assert not re.search(r"\sstyle=", text)
    assert not re.search(r"\son[a-z]+=", text)
    assert "|safe" not in text.replace(" ", "")
