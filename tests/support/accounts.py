"""Helpers for association tests: accounts, campaigns and submitted members."""

from __future__ import annotations

import re

from app.assess import store
from app.engine import score
from app.extensions import db
from app.models import Assessment
from app.models import Campaign
from tests.support.content import profile_for
from tests.support.pages import csrf_token_of

PASSWORD = "correct horse battery staple"


def create_association(app, name, email, password=PASSWORD):
    result = app.test_cli_runner().invoke(
        args=["associations", "create", "--name", name, "--email", email, "--password", password]
    )
    assert result.exit_code == 0, result.output


def create_staff(app, email="staff@example.cl", password=PASSWORD):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", email, "--password", password]
    )
    assert result.exit_code == 0, result.output


def confirm_email(app, client, email, lang="es"):
    """Open the confirmation link a registration sends (built as the e-mail builds it)
    and press its button, as the owner of the address would."""
    from app.accounts import auth

    with app.test_request_context(f"/{lang}/"):
        path = auth.confirmation_link(auth.find_user(email)).split("localhost", 1)[1]
    return client.post(path, data={"csrf_token": csrf_token_of(client, path)})


def login(client, email, password=PASSWORD, lang="es"):
    token = csrf_token_of(client, f"/{lang}/associations/login")
    return client.post(
        f"/{lang}/associations/login",
        data={"csrf_token": token, "email": email, "password": password},
    )


def new_campaign(client, name="Campaña 2026", lang="es", version=None):
    """Create a campaign on the app's questionnaire (version 1 unless `version`)."""
    version = version or f"{client.application.config['QUESTIONNAIRE']}:1"
    token = csrf_token_of(client, f"/{lang}/associations/campaigns/new")
    response = client.post(
        f"/{lang}/associations/campaigns/new",
        data={
            "csrf_token": token,
            "name": name,
            "version": version,
            "closes_on": "",
            "message": "Estimados socios: respondan antes de fin de mes.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def add_members(app, campaign_id, count, answers="best", named=False, name="Socio", profile=None):
    """Submit `count` assessments in a campaign directly through the store; `profile`
    changes some of the profile answers the tests give (e.g. {"p_sector": "otro"}), and
    `answers` is "best", "worst" or {question id: answer} over the best answers."""
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        questionnaire = app.extensions["questionnaires"].get(campaign.questionnaire_id)
        chosen = {
            q.id: (q.worst_answer() if answers == "worst" else q.best_answer())
            for q in questionnaire.questions
        }
        if isinstance(answers, dict):
            chosen |= answers
        profile = {
            k: (int(v) if v.isdigit() else v)
            for k, v in (profile_for(questionnaire.id) | (profile or {})).items()
        }
        result = score(questionnaire, profile, chosen)
        for number in range(count):
            assessment, _ = Assessment.start(
                questionnaire,
                "es",
                campaign_id=campaign_id,
                member_name=f"{name} {number}",
                share_named=named,
            )
            db.session.add(assessment)
            db.session.flush()
            store.save_changes(db.session.connection(), assessment.id, profile)
            store.submit(assessment, result, profile)
        db.session.commit()


def invitation_code(client, campaign_id: int) -> str:
    """The code of a campaign's invitation link (`/c/<code>`, no language), read from
    its dashboard."""
    page = client.get(f"/es/associations/campaigns/{campaign_id}").get_data(as_text=True)
    return re.search(r'id="invitation-link" value="[^"]*/c/([A-Za-z0-9_-]+)"', page).group(1)
