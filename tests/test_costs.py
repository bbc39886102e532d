"""What an anonymous visitor can make the server spend: the results PDF is rendered
once per submitted result, language and campaign medians (RESULT_PDFS in app/cache.py;
docs/SECURITY.md T26)."""

from __future__ import annotations

import re

import pytest

from app.assess import pdf
from app.cache import RESULT_PDF_MAX_BYTES
from tests.support.accounts import add_members
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import MINI_PROFILE
from tests.support.visitor import Visitor
from tests.support.visitor import best


@pytest.fixture
def renders(monkeypatch):
    """Count the PDF renderings (the HTML each was given); each returns a PDF of its own."""
    calls = []

    def fake_render(html: str) -> bytes:
        calls.append(html)
        return b"%PDF-1.7 fake " + str(len(calls)).encode()

    monkeypatch.setattr(pdf, "render_pdf", fake_render)
    return calls


def submitted(client, lang="es") -> str:
    visitor = Visitor(client, lang)
    visitor.start()
    visitor.answer_all(best)
    visitor.submit()
    assert visitor.url.endswith("/results"), visitor.url
    return visitor.token


def test_the_pdf_of_a_submitted_result_is_rendered_once_per_language(client, renders):
    token = submitted(client)
    first = client.get(f"/es/a/{token}/results.pdf")
    second = client.get(f"/es/a/{token}/results.pdf")
    assert first.status_code == second.status_code == 200
    assert len(renders) == 1
    assert second.data == first.data
    assert second.mimetype == "application/pdf"
    assert second.headers["Content-Disposition"] == first.headers["Content-Disposition"]
    creole = client.get(f"/ht/a/{token}/results.pdf")
    assert creole.status_code == 200
    assert len(renders) == 2 and creole.data != first.data
    assert '<html lang="ht">' in renders[1]
    client.get(f"/ht/a/{token}/results.pdf")
    assert len(renders) == 2


def test_another_assessment_gets_its_own_pdf(app, client, renders):
    first, second = submitted(client), submitted(app.test_client())
    one = client.get(f"/es/a/{first}/results.pdf").data
    other = app.test_client().get(f"/es/a/{second}/results.pdf").data
    assert len(renders) == 2 and one != other


def test_new_campaign_medians_render_the_pdf_anew(app, client, renders):
    create_association(app, "Cámara de Comercio del Norte", "norte@example.cl")
    assert login(client, "norte@example.cl").status_code == 302
    campaign = new_campaign(client)
    page = client.get(f"/es/associations/campaigns/{campaign}").get_data(as_text=True)
    code = re.search(r"/es/c/([A-Za-z0-9_-]+)", page).group(1)
    add_members(app, campaign, 5, answers="worst")
    member = Visitor(app.test_client())
    member.get(f"/es/c/{code}")
    member.submit({})
    member.submit(MINI_PROFILE)
    member.answer_all(best)
    member.submit()
    pdf_url = f"/es/a/{member.token}/results.pdf"

    def medians():
        page = member.client.get(f"/es/a/{member.token}/results").get_data(as_text=True)
        return re.search(r'<tr class="total">.*?</tr>', page, re.S).group(0)

    before = medians()
    member.client.get(pdf_url)
    member.client.get(pdf_url)
    assert len(renders) == 1
    add_members(app, campaign, 6, answers="best")  # a new release: medians to compare with
    assert medians() != before
    member.client.get(pdf_url)
    assert len(renders) == 2
    member.client.get(pdf_url)
    assert len(renders) == 2


def test_a_pdf_larger_than_the_bound_is_served_but_not_kept(client, monkeypatch):
    calls = []

    def huge(html: str) -> bytes:
        calls.append(html)
        return b"%PDF" + b" " * RESULT_PDF_MAX_BYTES

    monkeypatch.setattr(pdf, "render_pdf", huge)
    token = submitted(client)
    for _ in range(2):
        response = client.get(f"/es/a/{token}/results.pdf")
        assert response.status_code == 200 and len(response.data) > RESULT_PDF_MAX_BYTES
    assert len(calls) == 2
