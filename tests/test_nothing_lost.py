"""Nothing typed is lost: the language buttons of a form page take its input along, the
calculator keeps what was typed and lands on its result, an answer against the
calculation is flagged; and error messages say what to write."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Assessment
from tests.support.content import MINI_PROFILE
from tests.support.pages import Page
from tests.support.visitor import Visitor
from tests.test_journey import answers_in_db

CALCULATION = {"calc-total": "100", "calc-specialists": "0", "calc-foreign": "30"}  # 70 %
MEETS_RULE = CALCULATION | {"calc-chilean_family": "10", "calc-resident_5_years": "10"}  # 90 %


def assessments(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Assessment.id)))


def switch(visitor, lang, data, follow=False):
    """Press the header's button for `lang`: the step form goes to its `formaction`."""
    page = Page(visitor.page)
    buttons = re.findall(
        r'<button type="submit" form="step-form" formaction="([^"]+)" name="action" '
        r'value="language" class="link" lang="(\w+)">',
        visitor.page,
    )
    action = dict((code, url) for url, code in buttons)[lang]
    assert page.form("step-form").attributes["id"] == "step-form"
    return visitor.submit(data, action="language", url=action.replace("&amp;", "&"), follow=follow)


def test_step_pages_switch_language_with_buttons_of_the_form(client):
    visitor = Visitor(client)
    visitor.start()
    token = visitor.token
    for lang in ("ht", "en"):
        assert (
            f'<button type="submit" form="step-form" formaction="/{lang}/a/{token}/s/legal" '
            f'name="action" value="language" class="link" lang="{lang}">'
        ) in visitor.page
    # Enter in a field presses the first submit button of the form in page order: a
    # hidden "next" before the header's language buttons.
    first = re.search(r'<button type="submit" form="step-form"[^>]*>', visitor.page).group(0)
    assert 'value="next"' in first and 'tabindex="-1"' in first
    visitor.get(f"/es/a/{token}/review")
    assert f'href="/ht/a/{token}/review"' in visitor.page  # other pages keep their links


def test_language_switch_saves_the_typed_answers_and_shows_them_in_the_new_language(app, client):
    visitor = Visitor(client)
    visitor.start()
    token = visitor.token
    response = switch(visitor, "ht", {"legal_cotizaciones": "parcial"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/ht/a/{token}/s/legal"
    assert answers_in_db(app)["legal_cotizaciones"] == "parcial"
    visitor.follow(response)
    assert '<html lang="ht">' in visitor.page
    assert 'value="parcial" checked' in visitor.page
    assert "Anrejistre epi kontinye" in visitor.page


def test_language_switch_keeps_the_return_to_the_review(client):
    visitor = Visitor(client)
    visitor.start()
    visitor.get(f"/es/a/{visitor.token}/s/legal?return=review")
    response = switch(visitor, "ht", {"legal_cotizaciones": "si"})
    assert response.headers["Location"] == f"/ht/a/{visitor.token}/s/legal?return=review"


def test_language_switch_keeps_invalid_input_with_its_error_in_the_new_language(app, client):
    visitor = Visitor(client)
    visitor.start()
    visitor.get(f"/es/a/{visitor.token}/s/profile")
    data = MINI_PROFILE | {"p_dotacion_total": "katreven", "p_sector": "otro"}
    response = switch(visitor, "ht", data)
    assert response.status_code == 422
    assert '<html lang="ht">' in visitor.page
    assert 'value="katreven"' in visitor.page
    assert "Tape yon nonb antye (san vigil), pa egzanp 12." in visitor.page
    saved = answers_in_db(app)
    assert saved["p_sector"] == "otro"  # what was valid is stored
    assert saved["p_dotacion_total"] == 80  # the saved number stays
    # The page's hidden copies hold what is stored now, so going back to the old
    # answer is a change the next save writes.
    response = visitor.submit(MINI_PROFILE | {"p_sector": "comercio"}, follow=False)
    assert response.status_code == 302
    assert answers_in_db(app)["p_sector"] == "comercio"


def test_language_switch_on_the_first_page_keeps_the_input_and_stores_nothing(app, client):
    visitor = Visitor(client)
    visitor.get("/es/a/new")
    response = switch(visitor, "ht", {"p_tipo_organizacion": "gremio", "p_dotacion_total": "45"})
    assert response.status_code == 200  # a draft: the questions not answered yet are no error
    assert '<html lang="ht">' in visitor.page
    assert 'value="gremio" checked' in visitor.page and 'value="45"' in visitor.page
    assert 'id="q-p_socios"' in visitor.page  # the follow-up its answer opened
    assert 'class="error-summary"' not in visitor.page
    assert Page(visitor.page).form("step-form").attributes["action"] == "/ht/a/new"
    assert assessments(app) == 0


def test_calculator_keeps_letters_with_an_error_and_lands_on_itself(client):
    visitor = Visitor(client)
    visitor.start()
    assert 'id="calculator"' in visitor.page
    assert 'value="calculate" formaction="#calculator"' in visitor.page
    response = visitor.submit(
        {"calc-total": "cien", "calc-foreign": "-3", "legal_cotizaciones": "si"},
        action="calculate",
        follow=False,
    )
    assert response.status_code == 200
    assert 'id="calc-total" name="calc-total" value="cien"' in visitor.page
    assert 'id="calc-foreign" name="calc-foreign" value="-3"' in visitor.page
    errors = dict(re.findall(r'id="calc-error-(\w+)">([^<]+)<', visitor.page))
    assert errors == {
        "total": "Escriba un número entero, por ejemplo 12.",
        "foreign": "Escriba un número entre 0 y 9.999.999.",
    }
    assert '<details class="calculator" id="calculator" open>' in visitor.page
    assert 'value="si" checked' in visitor.page  # the page's answers stay, unsaved


def test_calculator_result_comes_first_where_the_page_lands(client):
    visitor = Visitor(client)
    visitor.start()
    visitor.submit(MEETS_RULE, action="calculate", follow=False)
    calculator = visitor.page.split('id="calculator"', 1)[1]
    assert calculator.index('class="calc-result"') < calculator.index('id="calc-total"')
    assert "Porcentaje contado como chileno: 90" in calculator


def test_an_empty_calculator_asks_for_the_staff(client):
    visitor = Visitor(client)
    visitor.start()
    visitor.submit({}, action="calculate", follow=False)
    assert 'id="calc-error-total">Escriba cuántas personas trabajan para usted en Chile' in (
        visitor.page
    )


@pytest.mark.parametrize(("answer", "numbers"), [("si", CALCULATION), ("no", MEETS_RULE)])
def test_an_answer_against_the_calculation_is_flagged_and_not_saved(app, client, answer, numbers):
    visitor = Visitor(client)
    visitor.start()
    visitor.submit(numbers | {"legal_proporcion_85": answer}, action="calculate", follow=False)
    assert 'id="error-legal_proporcion_85"' in visitor.page
    assert 'class="calc-warning"' in visitor.page  # beside the result, where the page lands
    response = visitor.submit(numbers | {"legal_proporcion_85": answer}, follow=False)
    assert response.status_code == 422
    assert "legal_proporcion_85" not in answers_in_db(app)
    assert f'id="calc-total" name="calc-total" value="{numbers["calc-total"]}"' in visitor.page


def test_an_answer_that_agrees_with_the_calculation_is_saved(app, client):
    visitor = Visitor(client)
    visitor.start()
    response = visitor.submit(MEETS_RULE | {"legal_proporcion_85": "si"}, follow=False)
    assert response.status_code == 302
    assert answers_in_db(app)["legal_proporcion_85"] == "si"


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("es", "Escriba un número entre 1 y 1.000.000."),
        ("ht", "Tape yon nonb ant 1 ak 1\u00a0000\u00a0000."),
        ("en", "Enter a number from 1 to 1,000,000."),
    ],
)
def test_number_ranges_are_written_with_the_languages_separators(client, lang, message):
    visitor = Visitor(client, lang)
    visitor.get(f"/{lang}/a/new")
    response = visitor.submit(MINI_PROFILE | {"p_dotacion_total": "0"})
    assert response.status_code == 422
    assert message in visitor.page.replace("&nbsp;", "\u00a0")


def test_messages_say_what_to_write(client):
    visitor = Visitor(client)
    visitor.get("/es/a/new")
    profile = {k: v for k, v in MINI_PROFILE.items() if k not in ("p_sector", "p_dotacion_total")}
    visitor.submit(profile)
    errors = dict(re.findall(r'id="error-(\w+)"><span[^>]*>[^<]*</span> ([^<]+)<', visitor.page))
    assert errors == {
        "p_dotacion_total": "Escriba un número, por ejemplo 12.",
        "p_sector": "Elija una respuesta.",
    }
    visitor.start()
    visitor.get(f"/es/a/{visitor.token}/s/entorno")
    visitor.submit({"e_apoyos": ["idioma", "ninguno"]}, follow=False)
    assert "«Ninguno» no se puede combinar con otras respuestas." in visitor.page
