"""A whole assessment in Haitian Creole on a 360 px phone, with the keyboard only.

Tab / Shift+Tab move, Space and the arrow keys choose, digits are typed, Enter
follows links and presses buttons: no click, no `page.check`, no `page.fill`.
Fields are found from the DOM as the focus reaches them, so new or changed
questions need no change here.
"""

from __future__ import annotations

import pytest

from tests.e2e.browsing import MAX_PAGES
from tests.e2e.browsing import overflow
from tests.e2e.browsing import path_of
from tests.e2e.browsing import profile_value

pytestmark = pytest.mark.e2e

LANG = "ht"
MAX_TABS = 400  # per page; the longest page (review) has about 100 tab stops

# What the keyboard focus is on, and whether it shows a focus indicator.
ACTIVE_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = !!style.boxShadow && style.boxShadow !== "none";
  const box = el.closest(".question[id^='q-']");
  const question = box ? box.id.slice(2) : null;
  const choice = el.type === "radio" || el.type === "checkbox";
  const group = choice ? [...document.getElementsByName(el.name)] : [];
  return {
    tag: el.tagName.toLowerCase(),
    type: el.type || null,
    name: el.getAttribute("name"),
    value: el.value === undefined ? null : el.value,
    question,
    isAnswer: !!question && el.name === question,
    groupChecked: group.some(i => i.checked),
    groupValues: group.map(i => i.value),
    isNext: el.matches('form button[type="submit"][name="action"][value="next"]'),
    isStart: el.matches("a.button.start"),
    focusVisible: el.matches(":focus-visible"),
    indicator: outline || shadow,
    outline: outline ? `${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}` : null,
    html: el.outerHTML.slice(0, 120),
  };
}"""


class KeyboardUser:
    """Moves through pages with the keyboard and records what each page looked like."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url
        self.visited: list[str] = []
        self.too_wide: list[tuple[str, int]] = []
        self.focus_stops: list[dict] = []
        self.no_indicator: list[tuple[str, str]] = []

    def arrived(self) -> None:
        path = path_of(self.page, self.base_url)
        self.visited.append(path)
        assert self.page.evaluate("() => document.documentElement.lang") == LANG, path
        extra = overflow(self.page)
        if extra > 0:
            self.too_wide.append((path, extra))

    def tab(self, key: str = "Tab") -> dict | None:
        self.page.keyboard.press(key)
        active = self.page.evaluate(ACTIVE_JS)
        if active is not None:
            self.focus_stops.append(active)
            if not (active["focusVisible"] and active["indicator"]):
                self.no_indicator.append((path_of(self.page, self.base_url), active["html"]))
        return active

    def activate(self) -> None:
        """Enter on the focused link or button, and wait for the next page."""
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")
        self.arrived()

    def tab_to(self, wanted: str) -> None:
        for _ in range(MAX_TABS):
            active = self.tab()
            if active and active[wanted]:
                return
        raise AssertionError(f"Tab never reached {wanted} on {self.page.url}")

    def choose_radio(self, active: dict) -> None:
        """Space picks the focused option; the arrow keys move to the one wanted."""
        wanted = profile_value(active["name"], active["groupValues"])
        self.page.keyboard.press("Space")
        for _ in range(len(active["groupValues"])):
            current = self.page.evaluate(ACTIVE_JS)
            if current["value"] == wanted:
                break
            self.page.keyboard.press("ArrowDown")
        current = self.page.evaluate(ACTIVE_JS)
        assert current["value"] == wanted and current["groupChecked"], current

    def answer_page(self) -> None:
        """Tab through the form once, answering what is still open, then Enter on "next"."""
        for _ in range(MAX_TABS):
            active = self.tab()
            if active is None:
                continue
            if active["isNext"]:
                self.activate()
                return
            if not active["isAnswer"]:
                continue  # links, the calculator, the other buttons...
            if active["type"] == "radio" and not active["groupChecked"]:
                self.choose_radio(active)
            elif active["type"] == "checkbox" and not active["groupChecked"]:
                self.page.keyboard.press("Space")
            elif active["type"] == "text" and not active["value"]:
                self.page.keyboard.type(profile_value(active["name"], []))
        raise AssertionError(f"no 'next' button reached by Tab on {self.page.url}")


def test_whole_assessment_in_creole_with_the_keyboard_on_a_phone(page, live_server):
    user = KeyboardUser(page, live_server)
    page.goto(f"{live_server}/{LANG}/")
    user.arrived()
    page.focus("body")

    # The skip link is the first tab stop, and Shift+Tab comes back to it.
    first = user.tab()
    assert first and first["tag"] == "a" and "skip" in first["html"], first
    user.tab()
    back = user.tab("Shift+Tab")
    assert back and back["html"] == first["html"], back

    user.tab_to("isStart")
    user.activate()
    assert page.url.endswith(f"/{LANG}/a/new"), page.url

    for _ in range(MAX_PAGES):
        if page.url.endswith("/review"):
            break
        before = len(user.visited)
        user.answer_page()
        assert len(user.visited) == before + 1
    else:
        raise AssertionError(f"never reached the review page: {user.visited}")
    steps = [path for path in user.visited if "/s/" in path]
    assert len(set(steps)) >= 5, user.visited  # the questionnaire has many steps

    user.tab_to("isNext")  # "Submit and see my results"
    user.activate()
    assert page.url.endswith("/results"), page.url
    assert page.locator(f'html[lang="{LANG}"]').count() == 1
    assert page.locator(".overall-number").is_visible()
    assert page.locator(".overall-number").inner_text().strip()[0].isdigit()

    assert not user.too_wide, f"pages wider than 360 px (path, extra px): {user.too_wide}"
    kinds = {(stop["tag"], stop["type"]) for stop in user.focus_stops}
    for kind in [("a", None), ("input", "radio"), ("input", "checkbox"), ("input", "text")]:
        assert kind in kinds, f"Tab never reached an element {kind}: {sorted(kinds, key=str)}"
    assert ("button", "submit") in kinds
    assert not user.no_indicator, (
        "elements without a visible focus indicator (page, element): "
        + "\n".join(f"{path}: {html}" for path, html in user.no_indicator)
    )
