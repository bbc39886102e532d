"""Links people are handed: the language-free invitation (`/c/<code>`), the bilingual
flyer with a QR code per language, and the private link on the assessment card, which
is read aloud and typed back (app/models.py: unmistakable groups, any case); and
Spanish names and Spanish-only links inside Creole and English pages."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
import segno
import sqlalchemy as sa
from flask import render_template_string
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Assessment
from app.models import Campaign
from tests.support.accounts import create_association
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.visitor import Visitor


@pytest.fixture
def campaign(app, client):
    """(campaign id, code) of an association's campaign closing on 30 April 2099."""
    create_association(app, "Cámara de Comercio del Norte", "norte@example.cl")
    assert login(client, "norte@example.cl").status_code == 302
    campaign_id = new_campaign(client)
    with app.app_context():
        db.session.get(Campaign, campaign_id).closes_on = date(2099, 4, 30)
        db.session.commit()
    return campaign_id, invitation_code(client, campaign_id)


def qr_of(link: str) -> str:
    """segno's inline SVG of exactly `link`, as the app draws QR codes."""
    return segno.make(link, error="m").svg_inline(omitsize=True, dark="#000", light="#fff")


# --- The invitation link carries no language


@pytest.mark.parametrize(
    ("accept", "lang"),
    [("ht", "ht"), ("fr-HT,fr;q=0.8", "ht"), ("es-CL,es;q=0.9", "es"), ("en-GB", "en"), ("", "es")],
)
def test_the_invitation_opens_in_the_browsers_language(app, campaign, accept, lang):
    _, code = campaign
    member = app.test_client()
    headers = {"Accept-Language": accept} if accept else {}
    response = member.get(f"/c/{code}", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/{lang}/c/{code}"
    assert "Accept-Language" in response.headers["Vary"]  # no cache serves it to another
    page = member.get(f"/c/{code}", headers=headers, follow_redirects=True)
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.get_data(as_text=True)


def test_a_creole_browser_lands_on_the_creole_join_page_with_the_language_chooser(app, campaign):
    _, code = campaign
    member = Visitor(app.test_client(), "ht")
    member.follow(member.client.get(f"/c/{code}", headers={"Accept-Language": "ht"}))
    assert member.url == f"/ht/c/{code}"
    assert "Kòmanse evalyasyon an" in member.page  # "Start the assessment"
    assert "Estimados socios" in member.page  # the association's own message
    for other in ("es", "en"):  # the chooser, if the guess is wrong
        assert f'href="/{other}/c/{code}" lang="{other}"' in member.page
    member.submit({"member_name": "Boulanjri Solèy"})
    assert member.url.startswith("/ht/a/") and member.url.endswith("/s/profile")


def test_an_unknown_code_without_language_is_the_usual_404(app, campaign):
    member = app.test_client()
    response = member.get("/c/not-a-real-code", headers={"Accept-Language": "ht"})
    assert member.get(response.headers["Location"]).status_code == 404


def test_the_dashboard_hands_out_the_link_without_a_language(client, campaign):
    campaign_id, code = campaign
    for lang in ("es", "ht"):
        page = client.get(f"/{lang}/associations/campaigns/{campaign_id}").get_data(as_text=True)
        assert f'id="invitation-link" value="http://localhost/c/{code}"' in page


# --- The flyer: one half per language, each with its QR code


def test_the_flyer_has_a_qr_code_and_the_closing_date_in_each_language(client, campaign):
    campaign_id, code = campaign
    page = client.get(f"/es/associations/campaigns/{campaign_id}/flyer").get_data(as_text=True)
    es, ht = (
        re.search(rf'<div lang="{lang}" class="flyer-half">(.*?)\n    </div>', page, re.S).group(1)
        for lang in ("es", "ht")
    )
    assert qr_of(f"http://localhost/es/c/{code}") in es
    assert qr_of(f"http://localhost/ht/c/{code}") in ht
    assert "Escanee el código para responder en español." in es
    assert "Eskane kòd la pou reponn an kreyòl." in ht
    assert "Puede responder hasta el 30 de abril de 2099." in es
    assert "Ou gen jiska 30 avril 2099 pou reponn." in ht
    assert "Estimados socios: respondan antes de fin de mes." in page
    written = f'<span class="card-link">http://localhost/c/{code}</span>'
    assert written in page.replace("<wbr>", "")  # the address to type, in both languages
    assert '<span lang="es">O escriba esta dirección:</span> / ' in page
    assert '<span lang="ht">Oswa tape adrès sa a:</span>' in page


# --- The private link: unmistakable groups, typed back in any form


def started(client) -> Visitor:
    visitor = Visitor(client)
    visitor.start()
    return visitor


def opens(client, token: str) -> str:
    """Where the resume link of `token` ends up (404: no assessment)."""
    response = client.get(f"/es/a/{token}/", follow_redirects=True)
    return response.request.path if response.status_code == 200 else str(response.status_code)


def test_new_tokens_are_seven_groups_of_four_unmistakable_symbols(client):
    token = started(client).token
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}", token), token


def test_a_token_typed_in_small_letters_without_dashes_or_with_spaces_resumes(client):
    visitor = started(client)
    token = visitor.token
    where = opens(client, token)
    assert where.startswith(f"/es/a/{token}/")
    for typed in (token.lower(), token.replace("-", ""), token.replace("-", " "),
                  " ".join(token.replace("-", "").lower())):  # fmt: skip
        response = client.get(f"/es/a/{typed}/")
        assert response.headers["Location"] == f"/es/a/{token}/"  # one spelling from here on
        assert opens(client, typed) == where


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    typing=st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(["", "", "-", " "])), min_size=28, max_size=28
    )
)
def test_any_misreading_of_a_token_that_the_alphabet_forgives_resumes(app, client, typing):
    """Each symbol in either case, 0 read as O, 1 read as I or L, any dashes or spaces."""
    app.config["NEW_ASSESSMENT_LIMIT_PER_ADDRESS"] = "1000 per minute"  # one per example
    token = started(client).token
    readings = {"0": "0Oo", "1": "1IiLl"}
    typed = ""
    for symbol, (reading, separator) in zip(token.replace("-", ""), typing, strict=True):
        ways = readings.get(symbol, symbol + symbol.lower())
        typed += ways[reading % len(ways)] + separator
    assert opens(client, typed.strip()) != "404", typed


def test_a_token_one_symbol_off_opens_nothing(client):
    token = started(client).token
    other = ("1" if token[0] != "1" else "2") + token[1:]
    assert opens(client, other) == "404"


OLD_TOKENS = [
    "AbCd-EfGh_ijKL-mnOP_qrST-uvWX_yz01-2345_678",  # URL-safe base64, 43 characters
    "ABCD-ABCD-ABCD-ABCD-ABCD-ABCD-ABCD---------",  # looks new once its dashes are dropped
]


@pytest.mark.parametrize("old", OLD_TOKENS)
def test_tokens_of_the_old_form_still_resume_exactly_as_written(app, client, old):
    """Links handed out before this change are case-sensitive base64, stored as the
    SHA-256 of the text itself: they keep working, and only as written."""
    visitor = started(client)
    with app.app_context():
        record = db.session.scalar(sa.select(Assessment))
        record.token_hash = hashlib.sha256(old.encode()).hexdigest()
        db.session.commit()
    assert opens(client, visitor.token) == "404"
    assert opens(client, old).startswith(f"/es/a/{old}/")
    assert opens(client, old.swapcase()) == "404"
    assert opens(client, old.replace("-", "")) == "404"


def test_the_card_shows_the_grouped_link_and_its_qr_code(client):
    token = started(client).token
    page = client.get(f"/ht/a/{token}/card").get_data(as_text=True)
    link = f"http://localhost/ht/a/{token}/"
    shown = re.search(r'<span class="card-link">(.*?)</span>', page).group(1)
    assert shown.replace("<wbr>", "") == link  # line breaks only between groups
    assert qr_of(link) in page  # the QR code is segno's encoding of exactly that link
    assert "0 ak 1" in page  # how to type it, in Creole


# --- Spanish inside Creole and English pages


@pytest.mark.parametrize("lang", ["ht", "en"])
def test_spanish_names_and_citations_are_marked_on_creole_and_english_pages(client, lang):
    landing = client.get(f"/{lang}/").get_data(as_text=True)
    privacy = client.get(f"/{lang}/privacy").get_data(as_text=True)
    for page in (landing, privacy):  # the footer, on every page
        assert '<span lang="es">Servicio Nacional de Migraciones</span>' in page
        assert '<span lang="es">Dirección del Trabajo</span>' in page
    assert landing.count('<span lang="es">Servicio Nacional de Migraciones</span>') == 2
    assert '<span lang="es">Ley 19.628</span>' in privacy
    assert '<span lang="es">Ley 21.719</span>' in privacy


def test_spanish_pages_carry_no_extra_marks(client):
    page = client.get("/es/privacy").get_data(as_text=True)
    assert "Servicio Nacional de Migraciones ni de la Dirección del Trabajo" in page
    assert "(Ley 19.628 y Ley 21.719)" in page


@pytest.mark.parametrize(
    ("lang", "languages", "note"),
    [("ht", ["es"], " <span class=\"link-language\">(an panyòl)</span>"),
     ("en", ["es"], " <span class=\"link-language\">(in Spanish)</span>"),
     ("es", ["es"], ""), ("ht", ["es", "ht"], ""), ("ht", [], ""),
     ("es", ["en", "fr"], " <span class=\"link-language\">(en inglés)</span>")],
)  # fmt: skip
def test_a_link_to_a_page_in_another_language_says_so(app, lang, languages, note):
    with app.test_request_context(f"/{lang}/"):
        app.preprocess_request()  # the language from the path, as for a page
        rendered = render_template_string(
            '{% from "_language.html" import page_language with context %}'
            "{{ page_language(languages) }}",
            languages=languages,
        )
    assert rendered == note
