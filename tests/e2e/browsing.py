"""Helpers shared by the real-browser tests: page checks and a fast (pointer) journey."""

from __future__ import annotations

from tests.support.content import EMPRESA

PHONE_WIDTH = 360
MAX_PAGES = 40  # far more submissions than the longest journey needs
NEXT = 'form button[type="submit"][name="action"][value="next"]'

# Each question of a step: `.question` with id "q-<question id>"; choices are
# inputs named after the question, numbers and texts are "#<question id>-input".
QUESTIONS_JS = """() => [...document.querySelectorAll("form .question[id^='q-']")].map(box => {
  const id = box.id.slice(2);
  const choices = [...box.querySelectorAll("input")].filter(i => i.name === id
      && (i.type === "radio" || i.type === "checkbox"));
  const field = box.querySelector("#" + CSS.escape(id + "-input"));
  return {
    id,
    kind: choices.length ? choices[0].type : (field ? field.tagName.toLowerCase() : "other"),
    values: choices.map(i => i.value),
    answered: choices.length ? choices.some(i => i.checked) : !!(field && field.value.trim()),
  };
})"""


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the phone (0 when it fits)."""
    return page.evaluate("() => document.documentElement.scrollWidth") - PHONE_WIDTH


def path_of(page, base_url: str) -> str:
    return page.url.removeprefix(base_url)


def profile_value(question_id: str, values: list[str]) -> str:
    """The answer to give a question: the EMPRESA profile (tests/support/content.py),
    else the first option."""
    wanted = EMPRESA.get(question_id)
    if values:
        return wanted if wanted in values else values[0]
    return wanted or "1"


def answer_by_pointer(page) -> None:
    """Answer every unanswered question of the current step with the mouse and the form API."""
    for question in page.evaluate(QUESTIONS_JS):
        if question["answered"]:
            continue
        value = profile_value(question["id"], question["values"])
        if question["kind"] in ("radio", "checkbox"):
            page.check(f'input[name="{question["id"]}"][value="{value}"]')
        elif question["kind"] == "input":
            page.fill(f"#{question['id']}-input", value)


def press_next_by_pointer(page) -> None:
    with page.expect_navigation():
        page.click(NEXT)


def walk_to_review(page, base_url: str, on_page=None) -> list[str]:
    """From the profile form, answer every step until the review page.

    `on_page(page)` runs on each page reached (the profile included). Returns the
    paths visited."""
    visited = []
    for _ in range(MAX_PAGES):
        visited.append(path_of(page, base_url))
        if on_page:
            on_page(page)
        if page.url.endswith("/review"):
            return visited
        answer_by_pointer(page)
        press_next_by_pointer(page)
    raise AssertionError(f"never reached the review page; visited {visited}")
