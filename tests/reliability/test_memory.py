"""A worker's memory stays bounded when anonymous visitors post large padded values:
each re-rendered page used to enter the widget cache under a key of its own, with
the padded hidden copy of the value shown (`was-…`) in the key and in the HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.support import Browser
from tests.reliability.support import gunicorn
from tests.reliability.support import start_assessment
from tests.support.content import EMPRESA
from tests.support.pages import step_form

pytestmark = pytest.mark.reliability

POSTS = 300
PADDING = 150_000  # characters: under the 256 KB a request may carry
LIMIT_MB = 150


def worker_rss_mb(master_pid: int) -> float:
    """The resident memory of the largest child of the gunicorn master, in MB."""
    largest = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(master_pid) and "VmRSS" in fields:
            largest = max(largest, int(fields["VmRSS"].split()[0]))
    return largest / 1024


def test_padded_posts_do_not_grow_the_worker(module_database_url, tmp_path):
    with gunicorn(module_database_url, tmp_path / "server.log", workers=1) as server:
        browser = Browser(server.port)
        token, _ = start_assessment(browser, EMPRESA)
        page = browser.get(f"/es/a/{token}/s/profile")
        form = step_form(page.body)
        for number in range(POSTS):
            padded = "0" * (4000 + number) + "80"  # a valid 80, written its own way
            posted = form.filled(
                EMPRESA
                | {
                    "p_dotacion_total": padded,
                    "was-p_dotacion_total": "8" * (PADDING + number),
                    "p_tipo_organizacion": "nonsense",  # an error: the page is shown again
                }
            )
            response = browser.post(f"/es/a/{token}/s/profile", posted)
            assert response.status == 422, response.status  # shown again, with the error
        rss = worker_rss_mb(server.process.pid)
    assert 0 < rss < LIMIT_MB, f"worker RSS {rss:.0f} MB after {POSTS} padded posts"
