"""On a 360 px phone (issue 15): the landing page's start button on the first screen,
links that stand on their own at least 24 px tall (WCAG 2.2 target size, axe's
`target-size` rule, which Lighthouse runs), and fields in error drawn with a red border.
"""

from __future__ import annotations

import pytest

from tests.e2e.browsing import NEXT
from tests.e2e.browsing import walk_to_review
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.e2e

MIN_TARGET = 24  # CSS px, WCAG 2.2 success criterion 2.5.8

# Links in the page's main part that are the whole text of their paragraph, list item,
# definition or cell ("Change", "Print a card with this link", "Delete this assessment").
STANDALONE_LINKS_JS = """() => [...document.querySelectorAll("main a")]
  .filter(a => a.parentElement.textContent.trim() === a.textContent.trim())
  .filter(a => a.getClientRects().length)
  .map(a => ({text: a.textContent.trim().slice(0, 40),
              height: a.getBoundingClientRect().height}))"""


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def small_targets(page, axe) -> list[str]:
    found = [
        f"{link['text']!r}: {link['height']:.1f} px tall"
        for link in page.evaluate(STANDALONE_LINKS_JS)
        if link["height"] < MIN_TARGET
    ]
    results = axe.run(page, options={"runOnly": ["target-size"]}).response
    for violation in results["violations"]:
        found += [" ".join(map(str, node["target"])) for node in violation["nodes"]]
    return found


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_the_start_button_is_on_the_first_screen(page, live_server, lang):
    page.goto(f"{live_server}/{lang}/")
    button = page.locator("a.button.start").bounding_box()
    assert button["y"] + button["height"] <= PHONE["height"], button
    assert page.locator(".have-ready li").count() == 3


def test_links_that_stand_alone_are_big_enough_to_tap(page, live_server, axe):
    page.goto(f"{live_server}/es/a/new")
    walk_to_review(page, live_server)
    problems = {"review": small_targets(page, axe)}
    assert page.locator("dd.change a").count() > 10  # the "Change" links were measured
    with page.expect_navigation():
        page.click(NEXT)
    assert page.url.endswith("/results")
    problems["results"] = small_targets(page, axe)
    assert not any(problems.values()), problems


def test_fields_in_error_have_a_red_border(page, live_server):
    border = """id => { const style = getComputedStyle(document.getElementById(id));
      return [style.borderTopWidth, style.borderTopColor]; }"""
    page.goto(f"{live_server}/es/associations/login")
    assert page.evaluate(border, "email") == ["2px", "rgb(27, 27, 27)"]  # --ink
    with page.expect_navigation():
        page.click("main button[type=submit]")
    for field in ("email", "password"):
        assert page.evaluate(border, field) == ["3px", "rgb(179, 38, 30)"]  # --error
