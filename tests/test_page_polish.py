"""Polish from the tour of issue 15: an icon without a 404, static files cached for a
year only under their current hash, a description per page, fields in error marked
invalid, and a landing page with the start button before the long introduction.
(The browser side, sizes and borders as drawn, is in tests/e2e/test_phone_layout.py.)"""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.support.accounts import create_association
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import MINI_PROFILE
from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor
from tests.support.visitor import best

DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')


def description(page: str) -> str:
    found = DESCRIPTION.findall(page)
    assert len(found) == 1, found
    assert found[0].strip()
    return unescape(found[0])


def test_the_icon_is_linked_and_favicon_ico_finds_it(client):
    page = client.get("/es/").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="(/static/favicon\.svg\?v=[0-9a-f]{12})"', page)
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response.headers["Location"] == icon.group(1)
    response = client.get(icon.group(1))
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"


def test_only_a_static_url_with_the_current_hash_is_cached_for_a_year(client):
    page = client.get("/es/").get_data(as_text=True)
    current = re.search(r'href="(/static/style\.css\?v=[0-9a-f]{12})"', page).group(1)
    assert client.get(current).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Unversioned, or the hash of another release (a page cached before a deploy, or a
    # worker still on the old files): the browser must ask again each time.
    for url in ("/static/style.css", "/static/style.css?v=000000000000"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache", url


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_each_kind_of_page_has_its_own_description(app, client, lang):
    visitor = Visitor(client, lang)
    descriptions = {}
    for name, url in [
        ("default", f"/{lang}/privacy"),
        ("landing", f"/{lang}/"),
        ("start", f"/{lang}/a/new"),
    ]:
        visitor.get(url)
        descriptions[name] = description(visitor.page)
    visitor.start()
    assert description(visitor.page) == descriptions["default"]  # a section
    visitor.answer_all(best)
    visitor.submit()
    assert visitor.url.endswith("/results")
    descriptions["results"] = description(visitor.page)

    create_association(app, "Cámara de Comercio del Norte", "norte@example.cl")
    login(client, "norte@example.cl")
    code = invitation_code(client, new_campaign(client))
    visitor.get(f"/{lang}/c/{code}")
    descriptions["join"] = description(visitor.page)
    assert "Cámara de Comercio del Norte" in descriptions["join"]

    assert len(set(descriptions.values())) == len(descriptions), descriptions
    assert all("Compromiso Migrante" in text for text in descriptions.values())


def test_fields_in_error_are_marked_invalid(client):
    token = csrf_token_of(client, "/es/associations/login")
    page = client.post(
        "/es/associations/login", data={"csrf_token": token, "email": "", "password": ""}
    ).get_data(as_text=True)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="email"', page)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="password"', page)

    visitor = Visitor(client)
    visitor.get("/es/a/new")
    assert "aria-invalid" not in visitor.page
    visitor.submit({**MINI_PROFILE, "p_dotacion_total": "many"})
    invalid = re.findall(r'<input[^>]*aria-invalid="true"[^>]*>', visitor.page)
    assert len(invalid) == 1 and 'id="p_dotacion_total-input"' in invalid[0]


def test_the_landing_page_starts_with_the_button_and_what_to_have_ready(client):
    page = client.get("/es/").get_data(as_text=True)
    order = [
        page.index("<h1>"),
        page.index('class="button start"'),
        page.index('class="have-ready"'),
        page.index('id="about-title"'),
    ]
    assert order == sorted(order)
    ready = page[order[2] : order[3]]
    assert len(re.findall(r"<li>", ready)) == 3
