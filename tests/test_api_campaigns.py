"""Associations and the API: keys made and revoked on their page, shown once, stored
hashed, scoped to their own campaigns; and campaign figures that show nothing the
dashboard would not (docs/SECURITY.md T7)."""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ApiKey
from tests.support.accounts import add_members
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.api import API
from tests.support.api import bearer
from tests.support.api import create_key
from tests.support.pages import csrf_token_of


@pytest.fixture
def association(app, client):
    create_association(app, "Cámara del Norte", "norte@example.cl")
    assert login(client, "norte@example.cl").status_code == 302
    return client


def test_a_key_is_shown_once_stored_hashed_used_and_revoked(app, association):
    client = association
    key = create_key(client, "Portal de socios")
    index = client.get("/es/associations/").get_data(as_text=True)
    assert "Portal de socios" in index and key[:12] in index
    assert key not in index  # shown once, on the page that created it
    with app.app_context():
        stored = db.session.scalars(sa.select(ApiKey)).one()
        assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in json.dumps([str(getattr(stored, c.key)) for c in ApiKey.__table__.c])
    assert "Nunca" in index  # not used yet
    assert client.get(f"{API}/campaigns", headers=bearer(key)).status_code == 200
    index = client.get("/es/associations/").get_data(as_text=True)
    assert "Nunca" not in index  # its last use is shown
    revoke = f"/es/associations/api-keys/{stored.id}/revoke"
    csrf = csrf_token_of(client, "/es/associations/")
    assert client.post(revoke, data={"csrf_token": csrf}).status_code == 302
    assert client.get(f"{API}/campaigns", headers=bearer(key)).status_code == 401


def test_keys_are_made_only_by_their_association_with_a_csrf_token(app, association):
    client = association
    assert client.post("/es/associations/api-keys", data={"name": "x"}).status_code == 400
    empty = client.post(
        "/es/associations/api-keys",
        data={"csrf_token": csrf_token_of(client, "/es/associations/api-keys"), "name": ""},
    )
    assert empty.status_code == 422
    key = create_key(client)
    create_association(app, "Cámara del Sur", "sur@example.cl")
    other = app.test_client()
    login(other, "sur@example.cl")
    with app.app_context():
        key_id = db.session.scalars(sa.select(ApiKey.id)).one()
    csrf = csrf_token_of(other, "/es/associations/")
    revoke = other.post(f"/es/associations/api-keys/{key_id}/revoke", data={"csrf_token": csrf})
    assert revoke.status_code == 404
    assert client.get(f"{API}/campaigns", headers=bearer(key)).status_code == 200
    anonymous = app.test_client().get("/es/associations/api-keys")
    assert anonymous.status_code == 302


def test_a_key_opens_only_its_own_associations_campaigns(app, association):
    client = association
    own = new_campaign(client, "Campaña propia")
    key = create_key(client)
    create_association(app, "Cámara del Sur", "sur@example.cl")
    other = app.test_client()
    login(other, "sur@example.cl")
    foreign = new_campaign(other, "Campaña ajena")
    listed = client.get(f"{API}/campaigns", headers=bearer(key)).get_json()
    assert [c["id"] for c in listed] == [own]
    assert client.get(f"{API}/campaigns/{own}", headers=bearer(key)).status_code == 200
    hidden = client.get(f"{API}/campaigns/{foreign}", headers=bearer(key))
    missing = client.get(f"{API}/campaigns/999999", headers=bearer(key))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    token = client.post(f"{API}/assessments", json={}).get_json()["token"]
    assert client.get(f"{API}/campaigns", headers=bearer(token)).status_code == 401


def test_the_api_shows_nothing_the_dashboard_would_not(app, association):
    client = association
    campaign_id = new_campaign(client)
    key = create_key(client)

    def figures():
        response = client.get(f"{API}/campaigns/{campaign_id}?lang=es", headers=bearer(key))
        return response.get_json(), response.get_data(as_text=True)

    def dashboard():
        return client.get(f"/es/associations/campaigns/{campaign_id}").get_data(as_text=True)

    # Four "totals only" members: no release yet, on the dashboard as in the API.
    add_members(app, campaign_id, 4, named=False, name="Solo totales")
    data, text = figures()
    assert data["release"] is None and data["members_needed"] == 1
    assert data["named_members"] == []
    assert data["participation"] == {"started": 4, "completed": 4}
    assert 'id="aggregates"' not in dashboard()
    assert "Solo totales" not in text

    # A fifth member, named, with a weaker result: the first release, of five.
    add_members(app, campaign_id, 1, answers="worst", named=True, name="Visible")
    data, text = figures()
    page = dashboard()
    release = data["release"]
    assert release["members"] == 5
    assert [m["name"] for m in data["named_members"]] == ["Visible 0"]
    assert "Visible 0" in page
    assert "Solo totales" not in text  # a totals-only member's name (it has one) never shows
    # One organisation at a level is "<3", as the dashboard's "fewer than 3".
    levels = {level["id"]: level["members"] for level in release["levels"]}
    assert "<3" in levels.values() and 1 not in levels.values() and 2 not in levels.values()
    assert page.count("Menos de 3") >= list(levels.values()).count("<3")
    for commitment in release["commitments"]:
        for status in ("in_place", "partial", "not_in_place"):
            assert commitment[status] not in (1, 2)
    # The same whole-number means the dashboard shows, and nothing per member.
    overall = release["overall"]
    assert f"{overall['mean']}" in page and f"{overall['median']}" in page
    assert set(data) == {
        "id",
        "name",
        "questionnaire",
        "version",
        "open",
        "closes_on",
        "created_at",
        "participation",
        "members_needed",
        "release",
        "named_members",
    }
    # A sixth member moves nothing: releases come in cohorts of five.
    add_members(app, campaign_id, 1, named=False, name="Solo totales 2")
    assert figures()[0]["release"] == release
