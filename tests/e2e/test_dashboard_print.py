"""An association's dashboard prints as its report: the figures with their release
date, the breakdowns, and no buttons, forms or invitation link (app/static/print.css)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Association
from app.models import Campaign
from tests.e2e.conftest import PASSWORD
from tests.support.accounts import add_members

pytestmark = pytest.mark.e2e

EMAIL = "arica@example.cl"  # the association of tests/e2e/conftest.py


def new_campaign(live_app, name: str) -> int:
    with live_app.app_context():
        association = db.session.scalar(
            db.select(Association).where(Association.name == "Cámara de Comercio de Arica")
        )
        questionnaire = live_app.extensions["questionnaires"].get(live_app.config["QUESTIONNAIRE"])
        campaign = Campaign(
            association_id=association.id,
            name=name,
            code=Campaign.new_code(),
            questionnaire_id=questionnaire.id,
            questionnaire_version=questionnaire.version,
        )
        db.session.add(campaign)
        db.session.commit()
        return campaign.id


@pytest.fixture(scope="module")
def campaign_id(live_app):
    """An earlier campaign of the conftest's association, and this one: ten members in
    two sectors, so that the dashboard has breakdowns and a comparison."""
    add_members(live_app, new_campaign(live_app, "Campaña anterior"), 5, answers="worst")
    campaign_id = new_campaign(live_app, "Campaña para imprimir")
    add_members(live_app, campaign_id, 5)
    add_members(live_app, campaign_id, 5, profile={"p_sector": "construccion"})
    return campaign_id


def log_in(page, base_url, lang):
    page.goto(f"{base_url}/{lang}/associations/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


@pytest.mark.parametrize(
    ("lang", "released", "buttons"),
    [
        ("es", "publicadas el", ["Descargar resultados", "Cerrar la campaña", "Copiar"]),
        ("ht", "pibliye", ["Telechaje rezilta yo", "Fèmen kanpay la", "Kopye"]),
    ],
)
def test_the_dashboard_prints_without_buttons(
    page, live_server, campaign_id, lang, released, buttons
):
    log_in(page, live_server, lang)
    page.goto(f"{live_server}/{lang}/associations/campaigns/{campaign_id}")
    page.emulate_media(media="print")
    for selector in ("main a.button", "main button", "#invitation-link", "#downloads-help"):
        shown = [e for e in page.locator(selector).all() if e.is_visible()]
        assert not shown, selector
    assert page.locator("#aggregates .release").is_visible()
    assert page.locator("#breakdowns").is_visible()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(page.pdf())).pages)
    text = " ".join(text.split())
    assert released in text and "Campaña para imprimir" in text
    for label in buttons:
        assert label not in text, label


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_the_breakdowns_and_comparison_pass_axe_on_a_phone(page, live_server, campaign_id, lang):
    from axe_playwright_python.sync_playwright import Axe

    log_in(page, live_server, lang)
    page.goto(f"{live_server}/{lang}/associations/campaigns/{campaign_id}")
    assert page.locator("#breakdowns table").count() >= 2
    assert page.locator("#comparison table").count() == 2
    width = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert width <= 0, f"wider than the phone by {width} px"
    violations = Axe().run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious
