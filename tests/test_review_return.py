"""Review and change: "Change" opens a step with a return marker, saving goes back to
the review at that question, and unanswered questions are links to them."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from tests.support.content import MINI_PROFILE
from tests.support.pages import Page
from tests.support.visitor import Visitor
from tests.support.visitor import best
from tests.test_journey import answers_in_db

RETURN = "?return=review"


def at_review(client, answers=best, profile=None):
    visitor = Visitor(client)
    visitor.start(profile)
    visitor.answer_all(answers)
    assert visitor.url.endswith("/review")
    return visitor


def as_browser(visitor, answers):
    """Post the step form with everything the page shows filled in, as a browser does."""
    form = Page(visitor.page).form("step-form")
    data = MultiDict(form.filled(answers))
    return visitor.client.post(form.attributes["action"], data=data)


def test_change_opens_the_step_and_saving_returns_to_the_question(app, client):
    visitor = at_review(client)
    token = visitor.token
    change = f"/es/a/{token}/s/gestion{RETURN}#q-g_capacitacion"
    assert f'href="{change}"' in visitor.page
    assert 'id="q-g_capacitacion"' in visitor.page  # the review row the way back lands on

    visitor.get(change.split("#")[0])
    form = Page(visitor.page).form("step-form")
    assert form.attributes["action"] == f"/es/a/{token}/s/gestion{RETURN}"
    assert "Guardar y volver a la revisión" in visitor.page
    assert 'value="back"' not in visitor.page  # no detour to the previous step

    response = visitor.submit({"g_capacitacion": "no"}, follow=False)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/es/a/{token}/review#q-g_capacitacion"
    assert answers_in_db(app)["g_capacitacion"] == "no"


def test_saving_without_a_change_returns_to_the_section(client):
    visitor = at_review(client)
    visitor.get(f"/es/a/{visitor.token}/s/legal{RETURN}")
    response = visitor.submit({}, follow=False)
    assert response.headers["Location"] == f"/es/a/{visitor.token}/review#review-legal"


@pytest.mark.parametrize(
    "marker",
    ["https://evil.example/", "//evil.example", "results", "REVIEW", "review/../x", ""],
)
def test_only_the_review_marker_is_honoured(client, marker):
    visitor = at_review(client)
    token = visitor.token
    visitor.get(f"/es/a/{token}/s/legal?return={marker}")
    assert "Guardar y volver a la revisión" not in visitor.page
    assert "evil" not in Page(visitor.page).form("step-form").attributes["action"]
    response = visitor.submit({}, follow=False)
    assert response.headers["Location"] == f"/es/a/{token}/s/gestion"  # the usual next step


def test_unanswered_questions_are_links_to_them(client):
    visitor = Visitor(client)
    visitor.start()
    token = visitor.token
    for _ in range(3):  # legal, gestion, entorno saved without answers
        visitor.submit({})
    assert visitor.url.endswith("/review")
    for question in ("legal_cotizaciones", "g_responsable", "e_apoyos"):
        link = f'href="/es/a/{token}/s/{question_page(question)}{RETURN}#q-{question}"'
        row = visitor.page.split(f'id="q-{question}"', 1)[1].split("</div>", 1)[0]
        assert link in row and "Sin responder" in row and ">Responder<" in row, question
    # At the top, each page with questions left: a link to the first of them.
    summary = visitor.page.split('class="unanswered"', 1)[1].split("</ul>", 1)[0]
    assert f'href="/es/a/{token}/s/legal{RETURN}#q-legal_autorizacion_trabajo"' in summary
    assert "Cumplimiento legal básico</a>: 4 preguntas sin responder" in summary
    assert f'href="/es/a/{token}/s/gestion{RETURN}#q-g_responsable"' in summary


def question_page(question_id: str) -> str:
    return {"legal": "legal", "g": "gestion", "e": "entorno"}[question_id.split("_")[0]]


def test_a_change_that_opens_questions_on_a_later_page_goes_there_first(app, client):
    visitor = at_review(client)
    token = visitor.token
    visitor.get(f"/es/a/{token}/s/profile{RETURN}")
    gremio = MINI_PROFILE | {"p_tipo_organizacion": "gremio", "p_socios": "40"}
    response = visitor.submit(gremio, follow=False)
    # The trade association's question on the last page is new and required: it comes
    # before the review, still on the way back to it.
    assert response.headers["Location"] == (f"/es/a/{token}/s/entorno{RETURN}#q-e_gremio_orienta")
    visitor.follow(response)
    assert "Su cambio abrió nuevas preguntas" in visitor.page
    response = as_browser(visitor, {"e_gremio_orienta": "yes"})
    assert response.headers["Location"] == f"/es/a/{token}/review#q-e_gremio_orienta"
    assert answers_in_db(app)["e_gremio_orienta"] == "yes"


def test_a_follow_up_on_the_same_page_is_asked_before_returning(client):
    visitor = at_review(client, answers=lambda q: "no" if q.id == "g_capacitacion" else best(q))
    token = visitor.token
    visitor.get(f"/es/a/{token}/s/gestion{RETURN}")
    response = visitor.submit({"g_capacitacion": "yes"}, follow=False)
    assert response.headers["Location"] == f"/es/a/{token}/s/gestion{RETURN}"
    visitor.follow(response)
    response = visitor.submit({"g_capacitacion_horas": "8"}, follow=False)
    assert response.headers["Location"] == f"/es/a/{token}/review#q-g_capacitacion_horas"
