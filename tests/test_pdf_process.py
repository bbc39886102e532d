"""PDFs are rendered in a child process: the worker keeps its size, and a renderer that
fails, dies or hangs costs the child, never the worker."""

from __future__ import annotations

import logging
import os
import time

import pytest

from app.assess import pdf


def test_the_pdf_is_rendered_in_a_child_process(monkeypatch):
    monkeypatch.setattr(pdf, "_render", lambda html, stylesheet: str(os.getpid()).encode())
    assert int(pdf.render_pdf("<p>x</p>")) != os.getpid()


def test_a_real_pdf_comes_back_whole():
    document = pdf.render_pdf("<html lang='es'><title>t</title><p>Hola</p></html>")
    assert document.startswith(b"%PDF-") and document.rstrip().endswith(b"%%EOF")


def test_an_external_address_is_refused_and_the_refusal_logged_by_the_worker(caplog):
    html = "<html lang='es'><title>t</title><img src='https://example.org/x.png' alt=''></html>"
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf.render_pdf(html)
    refused = [r.getMessage() for r in caplog.records if "example.org" in r.getMessage()]
    assert refused and "external resource refused" in refused[0]  # never fetched


def failing(html, stylesheet):
    raise ValueError("broken stylesheet")


def hanging(html, stylesheet):
    time.sleep(60)


def dying(html, stylesheet):
    os._exit(3)


@pytest.mark.parametrize(
    ("render", "message"),
    [(failing, "ValueError: broken stylesheet"), (hanging, "no PDF after"), (dying, "ended")],
)
def test_a_failing_renderer_raises_in_the_worker_and_leaves_no_child(monkeypatch, render, message):
    monkeypatch.setattr(pdf, "_render", render)
    monkeypatch.setattr(pdf, "RENDER_TIMEOUT_SECONDS", 1)
    started = time.monotonic()
    with pytest.raises(pdf.PdfError, match=message):
        pdf.render_pdf("<p>x</p>")
    assert time.monotonic() - started < 10
    assert not [c for c in __import__("multiprocessing").active_children() if c.is_alive()]
