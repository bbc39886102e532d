"""Real-browser fixtures: the app on a live local server, driven by Debian's Chromium.

Nothing is downloaded: Playwright launches /usr/bin/chromium (never `playwright
install`), and axe-core comes inside the `axe-playwright-python` package.
Without Chromium every test here is skipped, unless E2E_REQUIRED=1 (set by
.ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler
from werkzeug.serving import make_server

from app import create_app
from tests.support.content import translations_directory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_CHROMIUM = (
    f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium` (see .ci/run)"
)
PHONE = {"width": 360, "height": 740}


def _unavailable(message: str) -> None:
    if os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(f"{message} (E2E_REQUIRED=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _requirements():
    """Skip (or, with E2E_REQUIRED=1, fail) every e2e test when it cannot run."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(MISSING_CHROMIUM)
    try:
        import axe_playwright_python  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as error:
        _unavailable(f"{error.name} is not installed: run `make install` (the dev extra)")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass  # one line per request would drown pytest's output


PASSWORD = "correct horse battery staple"
ASSOCIATION_ACCOUNT = ("associations", "create", "--name", "Cámara de Comercio de Arica",
                       "--email", "arica@example.cl", "--password", PASSWORD)  # fmt: skip
STAFF_ACCOUNT = ("users", "create-admin", "--email", "staff@example.cl", "--password", PASSWORD)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app `live_server` serves: on a migrated SQLite file, the shipped questionnaire
    (the default) with freshly compiled catalogs. Tests use it for what a browser cannot
    do, e.g. the `demo` command."""
    directory = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'e2e.sqlite'}",
            "INSTANCE_PATH": str(directory / "instance"),
            "TRANSLATIONS_DIR": translations_directory(),
            # Every test starts assessments from 127.0.0.1 (the limits: tests/test_costs.py).
            "NEW_ASSESSMENT_LIMIT_PER_ADDRESS": "1000 per minute",
            "JOIN_LIMIT_PER_ADDRESS": "1000 per minute",
            "PDF_LIMIT_PER_ADDRESS": "1000 per minute",
            # Several tests log in as the same association from the same address.
            "LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "1000 per minute",
        }
    )
    with app.app_context():
        upgrade()
    cli = app.test_cli_runner()
    for args in (ASSOCIATION_ACCOUNT, STAFF_ACCOUNT):
        assert cli.invoke(args=list(args)).exit_code == 0
    yield app
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    """`live_app` served on 127.0.0.1 and a free port."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser, request):
    """A fresh browser context (own cookies) on a 360×740 phone viewport.

    On failure a full-page screenshot goes to tests/e2e/screenshots/ (git-ignored).
    """
    context = browser.new_context(viewport=PHONE)
    yield context
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        folder = Path(__file__).parent / "screenshots"
        folder.mkdir(exist_ok=True)
        for number, page in enumerate(context.pages):
            name = f"{request.node.name}-{number}.png".replace("/", "_")
            try:
                page.screenshot(path=str(folder / name), full_page=True)
            except Exception as error:  # a screenshot must never hide the real failure
                print(f"screenshot failed: {error}")
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
