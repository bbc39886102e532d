"""T4, T6, T8: CSRF on every POST, no state change on GET, function-level access."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from tests.security.conftest import all_rules
from tests.support.accounts import login
from tests.support.visitor import Visitor

PUBLIC_ENDPOINTS = {
    "static", "pages.root", "pages.landing", "pages.healthz", "pages.privacy", "pages.paper",
    "assess.new", "assess.resume", "assess.section", "assess.review", "assess.results",
    "assess.results_pdf", "assess.reassess", "assess.card", "assess.delete", "assess.sharing",
    "join.join", "join.invitation", "accounts.login", "accounts.logout", "accounts.register",
    "accounts.request_reset", "accounts.reset_password", "accounts.confirm_email",
    "api.list_questionnaires", "api.questionnaire_version", "api-docs.openapi_json",
    "api_pages.page", "pages.favicon",
}  # fmt: skip
# The JSON API reads no cookie, so it has no CSRF to refuse and no login page to send
# to: a call without its key or token is a 401 (docs/SECURITY.md T28, tests/test_api.py).
API_PATH = "/api/"


def row_counts(app):
    with app.app_context():
        tables = db.metadata.sorted_tables
        return {
            t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables
        }


def test_every_post_route_refuses_a_request_without_csrf_token(world, client):
    """Walk the URL map: no POST route changes anything without a valid token."""
    before = row_counts(world.app)
    rules = [r for r in all_rules(world.app, "POST") if not r.rule.startswith(API_PATH)]
    assert len(rules) >= 12
    for rule in rules:
        path = world.url_for_rule(rule)
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(path, data=data | {"action": "next", "legal_cotizaciones": "si"})
            assert response.status_code == 400, (path, response.status_code)
    assert row_counts(world.app) == before


def test_get_routes_change_nothing(world, client):
    before = row_counts(world.app)
    for rule in all_rules(world.app, "GET"):
        client.get(world.url_for_rule(rule)).close()
    after = row_counts(world.app)
    assert after == before


def test_every_non_public_route_needs_an_account(world):
    anonymous = world.app.test_client()
    for rule in world.app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        response = anonymous.get(world.url_for_rule(rule)) if "GET" in rule.methods else None
        if response is not None and rule.rule.startswith(API_PATH):
            assert response.status_code == 401, rule.endpoint
        elif response is not None:
            assert response.status_code == 302, rule.endpoint
            assert "/associations/login" in response.headers["Location"]


def test_association_accounts_cannot_reach_staff_pages(world, client):
    for rule in world.app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and "GET" in rule.methods:
            assert client.get(world.url_for_rule(rule)).status_code == 403


def test_staff_can_reach_staff_pages(world):
    staff = world.app.test_client()
    login(staff, "staff@example.cl")
    assert staff.get("/es/admin/").status_code == 200


def test_a_token_given_to_another_session_is_refused(app):
    """The worker keeps the signed token of each session it served (security.CSRFProtect
    accepts those without checking the signature again): one visitor's token, posted
    with another visitor's session, is still refused."""
    first, second = Visitor(app.test_client()), Visitor(app.test_client())
    first.start()
    second.start()
    assert first.csrf_token != second.csrf_token
    refused = second.submit({"csrf_token": first.csrf_token, "legal_cotizaciones": "si"})
    assert refused.status_code == 400
    assert second.submit({"legal_cotizaciones": "si"}, follow=False).status_code == 302


def test_over_https_a_known_token_still_needs_a_referrer_from_this_site(make_app):
    """Flask-WTF's last check (WTF_CSRF_SSL_STRICT) holds for a token the worker keeps."""
    client = make_app(PREFERRED_URL_SCHEME="https").test_client()  # the client's scheme
    client.environ_base["HTTP_REFERER"] = "https://localhost/"
    visitor = Visitor(client)
    visitor.start()
    page = visitor.page
    for referrer in ("https://elsewhere.example/", None):
        if referrer is None:
            del client.environ_base["HTTP_REFERER"]
        else:
            client.environ_base["HTTP_REFERER"] = referrer
        response = visitor.submit({"legal_cotizaciones": "si"}, follow=False)
        assert response.status_code == 400, referrer
        visitor.page = page
    client.environ_base["HTTP_REFERER"] = "https://localhost/a/"
    assert visitor.submit({"legal_cotizaciones": "si"}, follow=False).status_code == 302
