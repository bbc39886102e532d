"""An assessment deleted or purged while someone has a page of it open: the save is
refused with a page that says what happened, not "check the address"."""

from __future__ import annotations

from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor


def test_a_save_to_a_deleted_assessment_says_it_was_deleted(app, client):
    visitor = Visitor(client)
    visitor.start()
    page_open, csrf = visitor.url, visitor.csrf_token
    other_tab = app.test_client()
    token = visitor.token
    delete_form = {"csrf_token": csrf_token_of(client, f"/es/a/{token}/delete")}
    assert client.post(f"/es/a/{token}/delete", data=delete_form).status_code == 302
    response = client.post(page_open, data={"csrf_token": csrf, "action": "next"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "ya no existe" in page and "730" in page
    assert "Revise la dirección" not in page
    # A link that never existed still reads "page not found, check the address".
    assert "ya no existe" not in other_tab.get(f"/es/a/{'x' * 43}/").get_data(as_text=True)
