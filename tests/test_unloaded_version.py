"""An assessment or a campaign pinned to a questionnaire version whose file was
removed: every page answers 404 (logged for the operator), never a 500."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Assessment
from app.models import Campaign
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor
from tests.support.visitor import best

MISSING_VERSION = 99


def unload(app, model):
    with app.app_context():
        db.session.execute(sa.update(model).values(questionnaire_version=MISSING_VERSION))
        db.session.commit()


@pytest.mark.parametrize("submitted", [False, True])
def test_every_assessment_page_is_a_404(app, client, caplog, submitted):
    visitor = Visitor(client)
    visitor.start()
    if submitted:
        visitor.answer_all(best)
        visitor.submit()
    token, step = (
        visitor.token,
        app.extensions["questionnaires"].get(app.config["QUESTIONNAIRE"]).sections[1],
    )
    csrf = visitor.csrf_token if "csrf_token" in visitor.page else csrf_token_of(client, "/es/")
    unload(app, Assessment)
    pages = ["/", f"/s/{step.id}", "/review", "/results", "/results.pdf", "/card", "/delete"]
    for page in pages:
        assert client.get(f"/es/a/{token}{page}").status_code == 404, page
    for page in [f"/s/{step.id}", "/review", "/reassess", "/delete"]:
        response = client.post(f"/es/a/{token}{page}", data={"csrf_token": csrf})
        assert response.status_code == 404, page
    assert f"v{MISSING_VERSION}, which is not loaded" in caplog.text


def test_every_campaign_page_is_a_404(app, client, caplog):
    create_association(app, "Cámara", "camara@example.cl")
    login(client, "camara@example.cl")
    campaign_id = new_campaign(client)
    with app.app_context():
        code = db.session.get(Campaign, campaign_id).code
    unload(app, Campaign)
    base = f"/es/associations/campaigns/{campaign_id}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/export.csv").status_code == 404
    Visitor(app.test_client()).get(f"/es/c/{code}", expect=404)
    assert f"v{MISSING_VERSION}, which is not loaded" in caplog.text
