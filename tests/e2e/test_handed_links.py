"""Links people are handed, in a real browser: the invitation opened by a phone set to
Haitian Creole, and the QR codes of the flyer and the assessment card, read back from
what Chromium draws (zxing-cpp decodes the screenshot)."""

from __future__ import annotations

import io

import pytest

from tests.e2e.browsing import answer_by_pointer
from tests.e2e.browsing import press_next_by_pointer
from tests.e2e.conftest import PASSWORD
from tests.e2e.conftest import PHONE


def read_qr(locator) -> str:
    """The text of the one QR code drawn in `locator`'s element."""
    zxingcpp = pytest.importorskip("zxingcpp", reason="the dev extra installs zxing-cpp")
    from PIL import Image

    image = Image.open(io.BytesIO(locator.screenshot())).convert("L")
    [code] = zxingcpp.read_barcodes(image)
    return code.text


@pytest.fixture
def campaign(browser, live_server):
    """(invitation link, flyer page) of a new campaign, as the association sees them."""
    context = browser.new_context(viewport=PHONE, locale="es-CL")
    page = context.new_page()
    page.goto(f"{live_server}/es/associations/login")
    page.fill("#email", "arica@example.cl")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(f"{live_server}/es/associations/campaigns/new")
    page.fill("#name", "Campaña kreyòl")
    with page.expect_navigation():
        page.click("button[type=submit]")
    invitation = page.locator("#invitation-link").input_value()
    page.goto(page.url + "/flyer")
    yield invitation, page
    context.close()


def test_a_phone_set_to_creole_opens_the_invitation_in_creole(browser, live_server, campaign):
    invitation, _ = campaign
    code = invitation.rsplit("/c/", 1)[1]
    assert invitation == f"{live_server}/c/{code}"  # no language in the link handed out
    context = browser.new_context(viewport=PHONE, locale="ht-HT")
    page = context.new_page()
    page.goto(invitation)
    assert page.url == f"{live_server}/ht/c/{code}"
    assert page.get_attribute("html", "lang") == "ht"
    chooser = page.locator("nav.languages")
    assert chooser.is_visible()
    assert chooser.get_by_role("link", name="Español").get_attribute("href") == f"/es/c/{code}"
    page.fill("#member_name", "Boulanjri Solèy")
    with page.expect_navigation():
        page.get_by_role("button", name="Kòmanse evalyasyon an").click()
    assert "/ht/a/" in page.url and page.url.endswith("/s/profile")
    assert page.get_attribute("html", "lang") == "ht"
    context.close()


def test_each_qr_code_of_the_flyer_opens_its_language(live_server, campaign):
    invitation, flyer = campaign
    code = invitation.rsplit("/c/", 1)[1]
    for lang in ("es", "ht"):
        half = flyer.locator(f'.flyer-half[lang="{lang}"] .qr svg')
        assert read_qr(half) == f"{live_server}/{lang}/c/{code}"


def test_the_cards_qr_code_is_the_private_link(page, live_server):
    page.goto(f"{live_server}/ht/a/new")
    answer_by_pointer(page)
    press_next_by_pointer(page)
    token = page.url.split("/a/", 1)[1].split("/", 1)[0]
    page.goto(f"{live_server}/ht/a/{token}/card")
    link = page.locator(".card-link").inner_text()
    assert link == f"{live_server}/ht/a/{token}/"
    assert read_qr(page.locator(".qr svg")) == link
    # Typed back from the card in small letters with spaces, it opens the same assessment.
    page.goto(f"{live_server}/ht/a/{token.lower().replace('-', ' ')}/card")
    assert page.url == f"{live_server}/ht/a/{token}/card"
