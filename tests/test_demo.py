"""`flask --app wsgi demo`: a demo association whose dashboard shows aggregates at once."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Assessment
from app.models import Campaign
from app.models import User
from tests.support.accounts import login
from tests.support.content import SHIPPED


def run_demo(app):
    result = app.test_cli_runner().invoke(args=["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_seeds_once_and_the_dashboard_shows_aggregates(make_app):
    app = make_app(**SHIPPED)
    first = run_demo(app)
    email = re.search(r"e-mail\s+(\S+)", first).group(1)
    password = re.search(r"password\s+(\S+)\s+\(shown this once", first).group(1)
    second = run_demo(app)
    assert "0 member(s) added now" in second
    assert password not in second  # the password is printed once

    with app.app_context():
        campaigns = db.session.scalars(sa.select(Campaign)).all()
        assert len(campaigns) == 1
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
        members = db.session.scalars(sa.select(Assessment)).all()
        assert len(members) == 6
        assert all(m.submitted_at is not None for m in members)
        assert {m.campaign_id for m in members} == {campaigns[0].id}
        assert len({m.overall for m in members}) > 1  # varied answers, varied results
        named = [m.member_name for m in members if m.share_named]
        totals_only = [m.member_name for m in members if not m.share_named]
        assert named and totals_only
        dashboard_path = f"/es/associations/campaigns/{campaigns[0].id}"
    assert dashboard_path in first

    client = app.test_client()
    assert login(client, email, password).status_code == 302
    page = client.get(dashboard_path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="aggregates-title"' in html
    assert all(name in html for name in named)
    assert not any(name in html for name in totals_only)


def test_demo_works_on_the_configured_questionnaire(make_app):
    """Answers come from the questionnaire model, so any questionnaire gets a demo."""
    app = make_app()
    run_demo(app)
    with app.app_context():
        submitted = db.session.scalar(
            sa.select(sa.func.count(Assessment.id)).where(Assessment.submitted_at.is_not(None))
        )
    assert submitted == 6
