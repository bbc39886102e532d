"""In Chromium on a 360 px phone: "Change" on the review and back to that question, a
language switch that keeps what was typed, and the calculator's result on screen
after its reload (issue 15, items 3 and 4)."""

from __future__ import annotations

import pytest

from tests.e2e.browsing import NEXT
from tests.e2e.browsing import answer_by_pointer
from tests.e2e.browsing import press_next_by_pointer
from tests.e2e.browsing import walk_to_review

pytestmark = pytest.mark.e2e

# Whether an element starts on the screen the browser shows (after any scrolling; an
# anchor's top may land a fraction of a pixel above it).
ON_SCREEN_JS = """selector => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.top > -1 && box.top < window.innerHeight;
}"""


def on_screen(page, selector: str) -> bool:
    return page.evaluate(ON_SCREEN_JS, selector)


def to_the_calculator(page, base_url: str) -> None:
    page.goto(f"{base_url}/es/a/new")
    for _ in range(5):
        if page.locator("details.calculator").count():
            return
        answer_by_pointer(page)
        press_next_by_pointer(page)
    raise AssertionError("no step with the art. 20 calculator")


def test_change_on_the_review_comes_back_to_the_question(page, live_server):
    page.goto(f"{live_server}/es/a/new")
    walk_to_review(page, live_server)
    question = "legal_cotizaciones"  # asked of every employer, opens no other question
    row = page.locator(f"#q-{question}")
    before = row.locator("dd").first.inner_text()
    with page.expect_navigation():
        row.locator("a").click()
    assert page.url.endswith(f"?return=review#q-{question}")
    assert on_screen(page, f"#q-{question}")
    other = page.locator(f'input[name="{question}"]:not(:checked)').first
    other.check()
    with page.expect_navigation():
        page.click(NEXT)  # "Guardar y volver a la revisión"
    assert page.url.endswith(f"/review#q-{question}")
    assert on_screen(page, f"#q-{question}")
    assert page.locator(f"#q-{question} dd").first.inner_text() != before


def test_language_buttons_keep_what_was_typed(page, live_server):
    page.goto(f"{live_server}/es/a/new")
    page.check('input[name="p_tipo_organizacion"][value="empresa"]')
    page.fill("#p_dotacion_total-input", "ochenta")  # not a number: it stays, with its error
    with page.expect_navigation():
        page.click('header button[lang="ht"]')
    assert page.evaluate("document.documentElement.lang") == "ht"
    assert page.input_value("#p_dotacion_total-input") == "ochenta"
    assert page.is_checked('input[name="p_tipo_organizacion"][value="empresa"]')
    assert page.locator("#error-p_dotacion_total").count() == 1

    answer_by_pointer(page)  # the rest of the profile, then a step with a token
    page.fill("#p_dotacion_total-input", "80")
    press_next_by_pointer(page)
    assert "/ht/a/" in page.url and "/s/" in page.url
    step = page.url
    radio = page.locator('form .question input[type="radio"]').first
    name, value = radio.get_attribute("name"), radio.get_attribute("value")
    radio.check()  # not saved yet
    with page.expect_navigation():
        page.click('header button[lang="es"]')
    assert page.url == step.replace("/ht/", "/es/")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.is_checked(f'input[name="{name}"][value="{value}"]')


def test_enter_in_a_field_saves_and_continues(page, live_server):
    """The language buttons come first in the page, but Enter presses "next"."""
    page.goto(f"{live_server}/es/a/new")
    answer_by_pointer(page)
    with page.expect_navigation():
        page.press("#p_dotacion_total-input", "Enter")
    assert "/es/a/" in page.url and "/s/" in page.url


def test_calculator_lands_on_its_result_and_keeps_letters(page, live_server):
    to_the_calculator(page, live_server)
    page.click("details.calculator summary")
    page.fill("#calc-total", "cien")
    with page.expect_navigation():
        page.click('button[value="calculate"]')
    assert page.url.endswith("#calculator")
    assert page.input_value("#calc-total") == "cien"
    assert page.locator("#calc-error-total").is_visible()
    assert on_screen(page, "#calculator")

    for name, number in [("total", "100"), ("specialists", "0"), ("foreign", "30")]:
        page.fill(f"#calc-{name}", number)
    page.check('input[name="legal_proporcion_85"][value="si"]')  # 70 %: says the opposite
    with page.expect_navigation():
        page.click('button[value="calculate"]')
    assert page.url.endswith("#calculator")
    assert on_screen(page, ".calc-result")  # not scrolled away to the error summary
    assert page.locator(".calc-warning").is_visible()
    assert page.locator("#error-legal_proporcion_85").count() == 1
