"""axe-core on every page of the journey, in Spanish and Haitian Creole; and the
journey with JavaScript switched off.

axe's script comes inside the `axe-playwright-python` package (nothing is
downloaded). Only violations with impact "serious" or "critical" fail a test;
the message lists each with its page and the selectors of the elements.
"""

from __future__ import annotations

import pytest

from tests.e2e.browsing import MAX_PAGES
from tests.e2e.browsing import NEXT
from tests.e2e.browsing import answer_by_pointer
from tests.e2e.browsing import overflow
from tests.e2e.browsing import path_of
from tests.e2e.browsing import press_next_by_pointer
from tests.e2e.browsing import walk_to_review

pytestmark = pytest.mark.e2e

BLOCKING = ("serious", "critical")
UNKNOWN_TOKEN = "A" * 43


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


class Audit:
    """Runs axe on each page visited and keeps the serious and critical violations
    (and any page wider than the phone)."""

    def __init__(self, page, base_url, axe, lang):
        self.page = page
        self.base_url = base_url
        self.axe = axe
        self.lang = lang
        self.pages: list[str] = []
        self.found: list[str] = []

    def check(self, page=None, label: str | None = None) -> None:
        page = page or self.page
        path = label or path_of(page, self.base_url)
        assert page.evaluate("() => document.documentElement.lang") == self.lang, path
        self.pages.append(path)
        if overflow(page) > 0:
            self.found.append(f"{path}: wider than the 360 px phone by {overflow(page)} px")
        results = self.axe.run(page).response
        for violation in results["violations"]:
            if violation["impact"] not in BLOCKING:
                continue
            targets = "; ".join(
                " ".join(map(str, node["target"])) for node in violation["nodes"][:10]
            )
            more = len(violation["nodes"]) - 10
            self.found.append(
                f"{path}: {violation['id']} ({violation['impact']}) on {targets}"
                + (f" and {more} more" if more > 0 else "")
                + f" — {violation['help']}"
            )

    def check_step(self, page) -> None:
        """A step page; the first one with the art. 20 calculator again with it open."""
        self.check(page)
        if page.locator("details.calculator").count() and not any(
            "(calculator open)" in path for path in self.pages
        ):
            page.click("details.calculator summary")
            self.check(label=f"{path_of(page, self.base_url)} (calculator open)")

    def goto(self, path: str, status: int = 200) -> None:
        response = self.page.goto(f"{self.base_url}{path}")
        assert response.status == status, (path, response.status)
        self.check()

    def report(self) -> str:
        return (
            f"{len(self.found)} problem(s) in {self.lang}, as page: rule (impact) on selectors "
            "— help, or page wider than the phone:\n" + "\n".join(self.found)
        )


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_no_serious_accessibility_violations_on_any_page(page, live_server, axe, lang):
    audit = Audit(page, live_server, axe, lang)
    audit.goto(f"/{lang}/")
    audit.goto(f"/{lang}/privacy")
    audit.goto(f"/{lang}/a/{UNKNOWN_TOKEN}/", status=404)

    audit.goto(f"/{lang}/a/new")
    with page.expect_navigation():
        page.click(NEXT)  # nothing answered: the error summary and inline errors
    assert page.locator("#error-summary").count() == 1
    audit.check(label=f"/{lang}/a/new (with errors)")

    walk_to_review(page, live_server, on_page=audit.check_step)
    with page.expect_navigation():
        page.click(NEXT)
    assert page.url.endswith("/results")
    audit.check()
    results = page.url
    token = results.rsplit("/a/", 1)[1].split("/")[0]
    audit.goto(f"/{lang}/a/{token}/card")
    audit.goto(f"/{lang}/a/{token}/delete")

    steps = [path for path in audit.pages if "/s/" in path]
    assert len(steps) >= 5 and any(path.endswith("/review") for path in audit.pages)
    assert any("(calculator open)" in path for path in audit.pages)
    print(f"axe checked {len(audit.pages)} pages in {lang}")
    assert not audit.found, audit.report()


def log_in(page, base_url, lang, email):
    from tests.e2e.conftest import PASSWORD

    page.goto(f"{base_url}/{lang}/associations/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_association_and_staff_pages_are_accessible(browser, live_server, axe, lang):
    """Accounts, campaigns, the dashboard, the flyer, joining, the paper questionnaire
    and the staff page, in a fresh browser session per role."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    audit = Audit(page, live_server, axe, lang)
    audit.goto(f"/{lang}/associations/login")
    audit.goto(f"/{lang}/associations/register")
    audit.goto(f"/{lang}/associations/reset")
    audit.goto(f"/{lang}/questionnaire")
    log_in(page, live_server, lang, "arica@example.cl")
    audit.check()
    audit.goto(f"/{lang}/associations/campaigns/new")
    page.fill("#name", f"Campaña {lang}")
    with page.expect_navigation():
        page.click("button[type=submit]")
    audit.check()  # the dashboard, below the privacy threshold
    dashboard = page.url
    audit.goto(dashboard.replace(live_server, "") + "/flyer")
    code = page.locator(".card-link").inner_text().rsplit("/", 1)[1]
    audit.goto(f"/{lang}/c/{code}")
    context.close()

    staff_context = browser.new_context(viewport={"width": 360, "height": 740})
    staff = staff_context.new_page()
    log_in(staff, live_server, lang, "staff@example.cl")
    assert staff.url.endswith(f"/{lang}/admin/")
    audit.check(staff)
    staff_context.close()
    print(f"axe checked {len(audit.pages)} association and staff pages in {lang}")
    assert not audit.found, audit.report()


def calculate(page):
    with page.expect_navigation() as navigation:
        page.click('button[name="action"][value="calculate"]')
    response = navigation.value
    assert response.status == 200
    return response


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_calculator_error_and_result_are_accessible(page, live_server, axe, lang):
    audit = Audit(page, live_server, axe, lang)
    page.goto(f"{live_server}/{lang}/a/new")
    for _ in range(MAX_PAGES):
        if page.locator("details.calculator").count() or page.url.endswith("/review"):
            break
        answer_by_pointer(page)
        press_next_by_pointer(page)
    assert page.locator("details.calculator").count() == 1, "no step has the calculator"
    page.click("details.calculator summary")
    page.fill("#calc-total", "many")
    assert calculate(page).status == 200
    assert page.locator(".calc-row.has-error").count() == 1
    audit.check(label=f"{path_of(page, live_server)} (calculator error)")
    for name, number in [("total", "100"), ("specialists", "5"), ("foreign", "10")]:
        page.fill(f"#calc-{name}", number)
    assert calculate(page).status == 200
    assert page.locator(".calc-result").count() == 1
    audit.check(label=f"{path_of(page, live_server)} (calculator result)")
    assert not audit.found, audit.report()


def test_profile_and_a_step_work_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.goto(f"{live_server}/es/a/new")
        answer_by_pointer(page)
        with page.expect_navigation():
            page.click(NEXT)
        assert "/s/" in page.url, page.url
        first_step = page.url
        # app.js never ran: the JavaScript-only buttons (copy the link) stay hidden.
        assert page.locator(".js-only").count() >= 1
        assert not page.locator(".js-only").first.is_visible()
        assert page.locator("#private-link").input_value().startswith(live_server)

        answer_by_pointer(page)
        with page.expect_navigation():
            page.click(NEXT)
        if page.url == first_step:  # answers opened follow-up questions on the same step
            answer_by_pointer(page)
            with page.expect_navigation():
                page.click(NEXT)
        assert page.url != first_step and ("/s/" in page.url or page.url.endswith("/review"))
        assert page.locator("h1").is_visible()
        assert overflow(page) <= 0

        # What was saved without JavaScript is shown when going back.
        page.goto(first_step)
        assert page.locator("form .question input:checked").count() >= 1
    finally:
        context.close()
