"""The results page in Chromium (issue 15): on a 360 x 640 phone the verdict and the
first actions are on the first screen; the folded plan and checklists print complete,
with JavaScript or without; the PDF it downloads draws its bars to scale."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.e2e.browsing import NEXT
from tests.e2e.browsing import walk_to_review
from tests.support.report import chart_bars

pytestmark = pytest.mark.e2e

FIRST_SCREEN = {"width": 360, "height": 640}
FOLDED = "details.fold"
PLAN_ITEMS = "section.plan ol.actions > li"


def submitted(page, base_url, lang) -> str:
    """The results address of a new assessment of the shipped questionnaire."""
    page.goto(f"{base_url}/{lang}/a/new")
    walk_to_review(page, base_url)
    with page.expect_navigation():
        page.click(NEXT)
    assert page.url.endswith("/results")
    return page.url


@pytest.fixture(scope="module")
def results(browser, live_server):
    """The results address in es and in ht (one assessment each)."""
    context = browser.new_context(viewport=FIRST_SCREEN)
    page = context.new_page()
    addresses = {lang: submitted(page, live_server, lang) for lang in ("es", "ht")}
    context.close()
    return addresses


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_the_verdict_and_the_first_actions_are_on_the_first_screen(browser, results, lang):
    context = browser.new_context(viewport=FIRST_SCREEN)
    page = context.new_page()
    page.goto(results[lang])
    verdict = page.locator("section.verdict").bounding_box()
    first_action = page.locator("section.top-actions li").first.bounding_box()
    context.close()
    assert verdict["y"] + verdict["height"] <= FIRST_SCREEN["height"], verdict
    assert first_action["y"] < FIRST_SCREEN["height"] - 40, first_action  # its first lines


@pytest.mark.parametrize("javascript", [False, True])
def test_the_folded_lists_print_complete(browser, results, javascript):
    context = browser.new_context(viewport=FIRST_SCREEN, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(results["es"])
    items = page.locator(PLAN_ITEMS)
    assert items.count() > 5 and not items.first.is_visible()  # folded on the screen
    page.emulate_media(media="print")
    if javascript:  # what the browser sends before printing: app.js opens every fold
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        assert page.locator(f"{FOLDED}:not([open])").count() == 0
    assert all(items.nth(n).is_visible() for n in range(items.count()))
    assert page.locator("details.fold .checklist li, details.fold td").first.is_visible()
    assert not page.locator(f"{FOLDED} > summary").first.is_visible()  # nothing to open
    if javascript:
        page.evaluate("window.dispatchEvent(new Event('afterprint'))")
        assert page.locator(f"{FOLDED}[open]").count() == 0  # folded back
    context.close()


def test_the_downloaded_pdf_draws_the_scores_to_scale(browser, results):
    context = browser.new_context(viewport=FIRST_SCREEN, accept_downloads=True)
    page = context.new_page()
    page.goto(results["ht"])
    scores = [
        int("".join(ch for ch in cell if ch.isdigit()))
        for cell in page.locator("section[aria-labelledby=areas-title] tbody td").all_inner_texts()
    ][:-1]  # the areas, without the overall score
    with page.expect_download() as download:
        page.click("a[download]")
    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    context.close()
    assert pdf.trailer["/Root"]["/Lang"] == "ht"
    drawn = [score for score in scores if score]  # a bar of 0 % draws nothing on its track
    bars = chart_bars(pdf)
    assert len(bars) == len(drawn) and any(score < 100 for score in drawn), (bars, scores)
    for (track, bar), score in zip(bars, drawn, strict=True):
        assert bar / track == pytest.approx(score / 100, abs=0.005)
