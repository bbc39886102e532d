"""The self-assessment journey through the test client, in es, ht and en."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Answer
from app.models import Assessment
from tests.support.content import MINI_PROFILE
from tests.support.visitor import Visitor
from tests.support.visitor import best
from tests.support.visitor import worst

# The fixture questionnaire's top level and its first step, in each language
# (tests/fixtures/translations/ for ht and en).
TOP_LEVEL = {"es": "Referente", "ht": "Modèl pou lòt yo", "en": "Leading example"}
SECOND_OF_FOUR = {"es": "Sección 2 de 4", "ht": "Seksyon 2 sou 4", "en": "Section 2 of 4"}
# The legal step of MINI_PROFILE (80 people, 12 of them foreign): every question shows.
LEGAL_QUESTIONS = (
    "legal_autorizacion_trabajo",
    "legal_cotizaciones",
    "legal_protocolo_karin",
    "legal_proporcion_85",
)


def answers_in_db(app):
    with app.app_context():
        return dict(db.session.execute(sa.select(Answer.question_id, Answer.value)).all())


@pytest.mark.parametrize("lang", ["es", "ht", "en"])
def test_complete_journey_with_best_answers(client, lang):
    visitor = Visitor(client, lang)
    visitor.get(f"/{lang}/")
    assert f'<html lang="{lang}">' in visitor.page
    visitor.start()
    assert visitor.token
    assert visitor.url == f"/{lang}/a/{visitor.token}/s/legal"
    assert f'<p class="progress-text" id="progress">{SECOND_OF_FOUR[lang]}</p>' in visitor.page
    visitor.answer_all(best)
    assert visitor.url.endswith("/review")
    assert "tag-bad" not in visitor.page  # optional questions left empty are not flagged
    visitor.submit()
    assert visitor.url.endswith("/results")
    assert f'<html lang="{lang}">' in visitor.page
    assert '<span class="overall-number">100' in visitor.page
    assert 'class="level level-2">' in visitor.page
    assert f"<strong>{TOP_LEVEL[lang]}</strong>" in visitor.page


def test_worst_answers_show_blocking_legal_requirements(client):
    visitor = Visitor(client, "es")
    visitor.start()
    visitor.answer_all(worst)
    visitor.submit()
    assert 'class="verdict blocking"' in visitor.page
    assert "Todavía no puede postular" in visitor.page
    assert 'class="level level-0">' in visitor.page


def test_resume_goes_to_first_unsaved_step(client):
    visitor = Visitor(client)
    visitor.start()
    token = visitor.token
    assert visitor.url == f"/es/a/{token}/s/legal"
    response = client.get(f"/es/a/{token}/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/es/a/{token}/s/legal"
    visitor.submit({})  # save legal without answers: saved, but its questions stay open
    response = client.get(f"/es/a/{token}/")
    assert response.headers["Location"] == f"/es/a/{token}/s/legal"
    visitor.get(f"/es/a/{token}/s/legal")
    visitor.submit({q: "si" for q in LEGAL_QUESTIONS})
    response = client.get(f"/es/a/{token}/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/es/a/{token}/s/gestion"


def test_profile_decides_which_questions_show(client):
    gremio = Visitor(client)
    gremio.start(MINI_PROFILE | {"p_tipo_organizacion": "gremio", "p_socios": "40"})
    small = Visitor(client)
    small.start(MINI_PROFILE | {"p_dotacion_total": "5", "p_dotacion_extranjera": "0"})
    assert 'id="q-legal_autorizacion_trabajo"' not in small.page  # no foreign staff
    assert 'id="q-legal_proporcion_85"' not in small.page  # 25 people or fewer
    assert 'id="q-legal_autorizacion_trabajo"' in gremio.page
    assert 'id="q-legal_proporcion_85"' in gremio.page
    gremio.answer_all(best)
    small.answer_all(best)
    assert "#q-e_gremio_orienta" in gremio.page  # on the review page
    assert "#q-e_gremio_orienta" not in small.page


def test_gremio_needs_number_of_members(app, client):
    visitor = Visitor(client)
    visitor.get("/es/a/new")
    assert 'id="q-p_socios"' not in visitor.page  # shown only once "gremio" is chosen
    response = visitor.submit(MINI_PROFILE | {"p_tipo_organizacion": "gremio"})
    assert response.status_code == 422
    assert 'id="error-summary"' in visitor.page
    assert 'href="#p_socios-input"' in visitor.page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 0


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("es", "Escriba un número entero, por ejemplo 12."),
        ("ht", "Tape yon nonb antye (san vigil), pa egzanp 12."),
        ("en", "Enter a whole number, for example 12."),
    ],
)
def test_validation_errors_are_translated_and_nothing_is_saved(app, client, lang, message):
    visitor = Visitor(client, lang)
    visitor.get(f"/{lang}/a/new")
    response = visitor.submit(MINI_PROFILE | {"p_dotacion_total": "muchos"})
    assert response.status_code == 422
    assert 'role="alert"' in visitor.page
    assert "error-p_dotacion_total" in visitor.page
    assert 'value="muchos"' in visitor.page  # the user's input is kept
    assert message in visitor.page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 0


def test_invalid_option_is_refused_and_saved_answers_stay(app, client):
    visitor = Visitor(client)
    visitor.start()
    step = visitor.url
    visitor.submit({"legal_cotizaciones": "si"})
    visitor.get(step)
    response = visitor.submit({"legal_cotizaciones": "tal_vez"}, follow=False)
    assert response.status_code == 422
    assert answers_in_db(app)["legal_cotizaciones"] == "si"


def test_double_submit_is_idempotent(app, client):
    visitor = Visitor(client)
    visitor.start()
    step = visitor.url
    page = visitor.page
    first = visitor.submit({"legal_cotizaciones": "parcial"}, follow=False)
    visitor.page, visitor.url = page, step
    second = visitor.submit({"legal_cotizaciones": "parcial"}, follow=False)
    assert first.status_code == second.status_code == 302
    with app.app_context():
        rows = db.session.scalar(
            sa.select(sa.func.count()).where(Answer.question_id == "legal_cotizaciones")
        )
    assert rows == 1


def test_a_stale_second_tab_does_not_erase_newer_answers(app, client):
    """Two tabs on the same page: each save writes only what that tab changed."""
    visitor = Visitor(client)
    visitor.start()
    step, stale_page = visitor.url, visitor.page
    visitor.submit({"legal_cotizaciones": "si"})
    visitor.page, visitor.url = stale_page, step  # the other tab, rendered before that save
    visitor.submit({"legal_protocolo_karin": "si"})
    saved = answers_in_db(app)
    assert saved["legal_cotizaciones"] == "si"
    assert saved["legal_protocolo_karin"] == "si"


def test_a_save_racing_a_submit_from_another_tab_writes_nothing(app, client):
    """A page save reads without the write lock; if the assessment is submitted
    before its write begins, the save must not change the locked answers."""
    visitor = Visitor(client)
    visitor.start()
    visitor.submit({"legal_cotizaciones": "si"})
    visitor.get(f"/es/a/{visitor.token}/s/legal")
    armed = {"on": True}
    with app.app_context():
        engine = db.engine
    commit = engine.dialect.do_commit

    def another_tab_submits(dbapi_connection):
        commit(dbapi_connection)
        if armed["on"]:  # the commit that ends the save's reads
            armed["on"] = False
            with engine.begin() as other:
                other.execute(sa.update(Assessment).values(submitted_at=sa.func.now()))

    engine.dialect.do_commit = another_tab_submits
    try:
        response = visitor.submit({"legal_cotizaciones": "no"}, follow=False)
    finally:
        engine.dialect.do_commit = commit
    assert not armed["on"]
    assert response.status_code == 302 and response.headers["Location"].endswith("/results")
    assert answers_in_db(app)["legal_cotizaciones"] == "si"


def test_expired_csrf_token_keeps_the_choices_and_saves_nothing(app, client):
    visitor = Visitor(client)
    visitor.start()
    form = {"csrf_token": "expired", "action": "next", "legal_cotizaciones": "parcial"}
    response = client.post(visitor.url, data=form | visitor.hidden_originals())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="parcial" checked' in page
    assert (
        '<div class="notice notice-warning" role="alert">Por su seguridad, esta página expiró.'
        in page
    )
    assert "legal_cotizaciones" not in answers_in_db(app)


def test_back_saves_and_goes_to_previous_step(client):
    visitor = Visitor(client)
    visitor.start()
    visitor.submit({"legal_cotizaciones": "si"})
    second = visitor.url
    assert second.endswith("/s/gestion")
    visitor.submit({}, action="back")
    assert visitor.url.endswith("/s/legal")
    assert 'value="si" checked' in visitor.page
    assert second != visitor.url


def test_submitted_assessment_is_locked(app, client):
    visitor = Visitor(client)
    visitor.start()
    visitor.answer_all(best)
    visitor.submit()
    results = visitor.url
    token = visitor.token
    response = client.get(f"/es/a/{token}/s/legal")
    assert response.status_code == 302 and response.headers["Location"].endswith("/results")
    visitor.get(f"/es/a/{token}/review", expect=302)
    visitor.get(results)
    with app.app_context():
        assert db.session.scalar(sa.select(Assessment.level)) == "referente"


def test_reassessment_is_prefilled_and_shows_the_change(client):
    visitor = Visitor(client)
    visitor.start()
    visitor.answer_all(worst)
    visitor.submit()
    old_token = visitor.token
    response = client.post(
        f"/es/a/{old_token}/reassess",
        data={"csrf_token": visitor.csrf_token},
    )
    visitor.follow(response)
    assert visitor.token != old_token
    assert visitor.url == f"/es/a/{visitor.token}/s/profile"
    assert 'value="80"' in visitor.page  # the profile is pre-filled
    visitor.get(f"/es/a/{visitor.token}/s/legal")
    visitor.answer_all(best)
    visitor.submit()
    assert 'class="up"' in visitor.page  # the change per area is shown


def test_unknown_tokens_get_the_same_404(client):
    bodies = set()
    for token in ["x", "A" * 43, "../../etc/passwd", "' OR 1=1 --", "A" * 500]:
        response = client.get(f"/es/a/{token}/")
        assert response.status_code == 404
        bodies.add(response.get_data())
    assert len(bodies) == 1


def test_results_before_submit_go_to_review(client):
    visitor = Visitor(client)
    visitor.start()
    response = client.get(f"/es/a/{visitor.token}/results")
    assert response.headers["Location"].endswith("/review")


def test_pdf_report(client):
    visitor = Visitor(client, "ht")
    visitor.start()
    visitor.answer_all(best)
    visitor.submit()
    response = client.get(f"/ht/a/{visitor.token}/results.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_delete_from_the_link(app, client):
    visitor = Visitor(client)
    visitor.start()
    visitor.get(f"/es/a/{visitor.token}/delete")
    visitor.submit({}, url=f"/es/a/{visitor.token}/delete")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Answer.id))) == 0


def test_language_switcher_keeps_the_place(client):
    visitor = Visitor(client)
    visitor.start()
    # On a step page the languages are buttons that take the typed answers along
    # (tests/test_nothing_lost.py).
    assert f'formaction="/ht/a/{visitor.token}/s/legal"' in visitor.page
    assert f'formaction="/en/a/{visitor.token}/s/legal"' in visitor.page


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("ht-HT,ht;q=0.9", "ht"),
        ("fr-HT,fr;q=0.8", "ht"),
        ("en-US,en", "en"),
        ("de", "es"),
        ("", "es"),
    ],
)
def test_root_redirects_by_accept_language(client, header, lang):
    response = client.get("/", headers={"Accept-Language": header})
    assert response.headers["Location"] == f"/{lang}/"


def test_unknown_language_is_404(client):
    assert client.get("/fr/").status_code == 404
    assert client.get("/<script>/").status_code == 404


def test_art20_calculator_without_javascript(client):
    visitor = Visitor(client)
    visitor.start()
    numbers = {"calc-total": "100", "calc-specialists": "5", "calc-foreign": "30",
               "calc-chilean_family": "10", "calc-resident_5_years": "12"}  # fmt: skip
    response = visitor.submit(
        numbers | {"legal_cotizaciones": "si"}, action="calculate", follow=False
    )
    assert response.status_code == 200
    assert 'class="calc-result"' in visitor.page
    assert "Personas contadas: 95. Contadas como extranjeras: 8." in visitor.page
    assert 'value="si" checked' in visitor.page  # the page's answers are kept, unsaved
    response = visitor.submit(numbers | {"calc-foreign": "99"}, action="calculate", follow=False)
    assert response.status_code == 200
    assert 'id="calc-error-foreign"' in visitor.page
