"""The API's pages of the site: the documentation page and an association's keys, in
Spanish and Haitian Creole, on a 360 px phone, through axe-core (as every other page)."""

from __future__ import annotations

import pytest

from tests.e2e import test_accessibility
from tests.e2e.test_accessibility import Audit
from tests.e2e.test_accessibility import log_in

pytestmark = pytest.mark.e2e
axe = test_accessibility.axe  # the same axe-core fixture


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_api_documentation_and_keys_pages_are_accessible(browser, live_server, axe, lang):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    audit = Audit(page, live_server, axe, lang)
    audit.goto(f"/api/v1/docs?lang={lang}")
    assert page.locator("section.api-operation").count() == 9
    log_in(page, live_server, lang, "arica@example.cl")
    audit.goto(f"/{lang}/associations/api-keys")
    page.fill("#name", f"Portal {lang}")
    with page.expect_navigation():
        page.click("#api-keys button[type=submit]:not(.secondary)")
    assert page.locator("#new-api-key").input_value().startswith("cmk_")
    audit.check(label=f"/{lang}/associations/api-keys (key shown once)")
    audit.goto(f"/{lang}/associations/")
    assert page.locator("#new-api-key").count() == 0
    context.close()
    assert not audit.found, audit.report()
