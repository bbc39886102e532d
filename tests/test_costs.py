"""What an anonymous visitor can make the server spend: the results PDF is rendered
once per submitted result, language and campaign medians (RESULT_PDFS in app/cache.py),
and PDF downloads, new assessments and campaign joins are rate-limited per address,
with the translated 429 page (docs/SECURITY.md T26; the purge is T24)."""

from __future__ import annotations

import re

import pytest

from app.assess import pdf
from app.cache import RESULT_PDF_MAX_BYTES
from tests.support.accounts import add_members
from tests.support.accounts import create_association
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import MINI_PROFILE
from tests.support.pages import csrf_token
from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor
from tests.support.visitor import best

# The 429 page's title and message in each language (app/pages.py ERROR_TITLES).
TOO_MANY = {
    "es": "Demasiados intentos",
    "ht": "Twòp esè",
}


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
    code = invitation_code(client, campaign)
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


# --- Rate limits ---------------------------------------------------------------


def assert_translated_429(response, lang):
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert TOO_MANY[lang] in page


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_pdf_downloads_are_limited_per_address(make_app, renders, lang):
    app = make_app(PDF_LIMIT_PER_ADDRESS="3 per minute")
    client = app.test_client()
    token = submitted(client, lang)
    codes = [client.get(f"/{lang}/a/{token}/results.pdf").status_code for _ in range(3)]
    assert codes == [200] * 3
    assert_translated_429(client.get(f"/{lang}/a/{token}/results.pdf"), lang)
    # Another address is not affected.
    other = app.test_client().get(
        f"/{lang}/a/{token}/results.pdf", environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    assert other.status_code == 200


def start(client, lang, address="127.0.0.1"):
    """Post the profile form of a new assessment from `address`."""
    token = csrf_token_of(client, f"/{lang}/a/new")
    return client.post(
        f"/{lang}/a/new",
        data={"csrf_token": token, "action": "next", **MINI_PROFILE},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_new_assessments_are_limited_per_address(make_app, lang):
    app = make_app(NEW_ASSESSMENT_LIMIT_PER_ADDRESS="3 per hour")
    client = app.test_client()
    assert [start(client, lang).status_code for _ in range(3)] == [302] * 3
    assert_translated_429(start(client, lang), lang)
    assert start(app.test_client(), lang, "203.0.113.7").status_code == 302


def test_forms_sent_back_with_errors_do_not_use_up_the_new_assessment_limit(make_app):
    app = make_app(NEW_ASSESSMENT_LIMIT_PER_ADDRESS="2 per hour")
    client = app.test_client()
    for _ in range(4):
        token = csrf_token_of(client, "/es/a/new")
        response = client.post("/es/a/new", data={"csrf_token": token, "action": "next"})
        assert response.status_code == 422
    assert [start(client, "es").status_code for _ in range(2)] == [302] * 2
    assert start(client, "es").status_code == 429


def join(client, lang, code, address="127.0.0.1"):
    page = client.get(f"/{lang}/c/{code}", environ_base={"REMOTE_ADDR": address})
    return client.post(
        f"/{lang}/c/{code}",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "sharing": "aggregate"},
        environ_base={"REMOTE_ADDR": address},
    )


def campaign_code(client, name) -> str:
    campaign = new_campaign(client, name=name)
    return invitation_code(client, campaign)


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_joins_are_limited_per_address_and_campaign(make_app, lang):
    app = make_app(JOIN_LIMIT_PER_ADDRESS="2 per hour")
    staff = app.test_client()
    create_association(app, "Cámara de Comercio del Norte", "norte@example.cl")
    assert login(staff, "norte@example.cl").status_code == 302
    first, second = campaign_code(staff, "Primera"), campaign_code(staff, "Segunda")
    member = app.test_client()
    assert [join(member, lang, first).status_code for _ in range(2)] == [302] * 2
    assert_translated_429(join(member, lang, first), lang)
    # The same address in another campaign, and another address in this one.
    assert join(member, lang, second).status_code == 302
    assert join(app.test_client(), lang, first, "203.0.113.7").status_code == 302


def test_route_limits_keep_the_limit_on_unknown_links(make_app):
    """The routes' own limits add to the blueprint's limit on unknown tokens and codes
    (Flask-Limiter would otherwise let a route's limits replace the blueprint's)."""
    client = make_app(TOKEN_MISS_LIMIT="3 per minute").test_client()
    codes = [client.get(f"/es/a/{'x' * 43}{n}/results.pdf").status_code for n in range(5)]
    assert codes == [404] * 3 + [429] * 2
    client = make_app(TOKEN_MISS_LIMIT="3 per minute").test_client()
    codes = [client.get(f"/es/c/nope{n}").status_code for n in range(5)]
    assert codes == [404] * 3 + [429] * 2
