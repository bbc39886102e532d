"""Tables read on a phone (issue 15): no table cell shows a word cut by CSS, at 360 and
1280 px, in Spanish and Haitian Creole, on the results page, an association's dashboard
(the `demo` campaign: six members, so every aggregate table shows) and the staff page;
and on a phone, tables of three or more columns stack, each cell labelled by its column.

A word may only be split across two lines after a hyphen or a slash it contains, or by
hyphenation (`hyphens: auto`) where the word's language has a syllable break (Pyphen's
dictionaries, as in the PDF). `overflow-wrap: anywhere` or `word-break: break-all` cut
words anywhere ("S/o/ci/a/s"), and these tests fail.
"""

from __future__ import annotations

import re

import pyphen
import pytest

from app import demo
from tests.e2e.browsing import NEXT
from tests.e2e.browsing import overflow
from tests.e2e.browsing import walk_to_review
from tests.e2e.conftest import PASSWORD
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.e2e

WIDTHS = (PHONE["width"], 1280)
BREAKS_AFTER = "-‐–—/"  # a line may end after these inside a word

# Every word of every visible table cell that the browser laid out on more than one
# line, with the characters that start a new line. E-mail addresses and links are not
# words: they may break where they must (`.address`).
SPLIT_WORDS_JS = r"""() => {
  const range = document.createRange();
  const rectOf = (node, index) => {
    range.setStart(node, index);
    range.setEnd(node, index + 1);
    return range.getClientRects()[0] || null;
  };
  const found = [];
  for (const cell of document.querySelectorAll("table th, table td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (element.getBoundingClientRect().width <= 1) continue;  // visually hidden
      for (const match of node.data.matchAll(/\S+/g)) {
        const word = match[0];
        if (word.includes("@") || word.includes("://")) continue;
        const breaks = [];
        let line = null;
        for (let i = 0; i < word.length; i++) {
          const rect = rectOf(node, match.index + i);
          if (!rect) continue;
          if (line && rect.top >= line.bottom - 1) breaks.push(i);
          if (!line || rect.top >= line.bottom - 1) line = rect;
        }
        if (breaks.length) {
          found.push({word, breaks, lang: element.closest("[lang]").lang,
                      hyphens: getComputedStyle(element).hyphens});
        }
      }
    }
  }
  return found;
}"""

# Each labelled cell: whether its label is drawn before it (stacked rows).
LABELS_SHOWN_JS = """() => [...document.querySelectorAll("table td[data-label]")].map(td => {
  const before = getComputedStyle(td, "::before").content;
  return before !== "none" && before.includes(td.dataset.label);
})"""


def syllable_breaks(word: str, lang: str) -> set[int]:
    """Where hyphenation may split `word` in `lang` (none for a language without a
    dictionary, such as Haitian Creole)."""
    if lang not in pyphen.LANGUAGES:
        return set()
    letters = re.search(r"\w+", word)
    if letters is None:
        return set()
    positions = pyphen.Pyphen(lang=lang).positions(letters.group())
    return {letters.start() + position for position in positions}


def cut_by_css(split: dict) -> bool:
    word = split["word"]
    return any(
        word[index - 1] not in BREAKS_AFTER
        and not (split["hyphens"] == "auto" and index in syllable_breaks(word, split["lang"]))
        for index in split["breaks"]
    )


def check_tables(page, where: str) -> list[str]:
    """What is wrong with the tables of the page: words cut, a page wider than the
    phone, labels missing on the phone or shown on a wide screen."""
    problems = []
    assert page.locator("table").count(), f"{where}: no table"
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": PHONE["height"]})
        for split in page.evaluate(SPLIT_WORDS_JS):
            if cut_by_css(split):
                problems.append(
                    f"{where} at {width} px: {split['word']!r} cut at {split['breaks']}"
                )
        labels = page.evaluate(LABELS_SHOWN_JS)
        if width == PHONE["width"]:
            if overflow(page) > 0:
                problems.append(f"{where}: wider than the phone by {overflow(page)} px")
            if not all(labels):
                problems.append(f"{where} at {width} px: {labels.count(False)} cells unlabelled")
        elif any(labels):
            problems.append(f"{where} at {width} px: stacked labels on a wide screen")
    page.set_viewport_size(PHONE)
    return problems


@pytest.fixture(scope="module")
def demo_password(live_app):
    """The demo association (`flask demo`): a campaign with six submitted members."""
    result = live_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return re.search(r"password\s+(\S+)", result.output).group(1)


def log_in(page, base_url, email, password):
    page.goto(f"{base_url}/es/associations/login")
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def test_results_tables_never_cut_words(page, live_server):
    page.goto(f"{live_server}/es/a/new")
    walk_to_review(page, live_server)
    with page.expect_navigation():
        page.click(NEXT)
    results = page.url
    assert results.endswith("/results")
    problems = check_tables(page, "results (es)")
    page.goto(results.replace("/es/", "/ht/", 1))
    problems += check_tables(page, "results (ht)")
    assert not problems, "\n".join(problems)


def test_dashboard_tables_never_cut_words(page, live_server, demo_password):
    log_in(page, live_server, demo.EMAIL, demo_password)
    problems = check_tables(page, "campaigns (es)")
    dashboard = page.locator("main table a", has_text=demo.CAMPAIGN_NAME).get_attribute("href")
    for lang in ("es", "ht"):
        page.goto(live_server + dashboard.replace("/es/", f"/{lang}/", 1))
        assert page.locator("#aggregates table").count() >= 5, "the demo's figures are missing"
        problems += check_tables(page, f"dashboard ({lang})")
    assert not problems, "\n".join(problems)


def test_staff_tables_never_cut_words(page, live_server, demo_password):
    """The staff page, with the demo's submitted assessments in its tables."""
    log_in(page, live_server, "staff@example.cl", PASSWORD)
    problems = []
    for lang in ("es", "ht"):
        page.goto(f"{live_server}/{lang}/admin/")
        problems += check_tables(page, f"staff ({lang})")
    assert not problems, "\n".join(problems)
