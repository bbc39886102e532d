"""The results report as a PDF, rendered from the same HTML as the print view.

Rendered in a child process forked for it: WeasyPrint's imports and one rendering grow
a process by 40-55 MB that it would keep (bench/soak.py), so a gunicorn worker would
stay that large for the rest of its life. The child sends the PDF back and exits; a
crash or a hang in the renderer costs the child, never the worker."""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
# Tagged for screen readers (a structure tree, headings, lists and tables as tags, the
# chart's <title> as its alternative text), with /Lang from <html lang> and the title
# shown: what PDF/UA-1 asks of the document.
PDF_VARIANT = "pdf/ua-1"
RENDER_TIMEOUT_SECONDS = 60  # the shipped questionnaire's report renders in 1-3 s


class PdfError(RuntimeError):
    """The renderer failed, died or took too long."""


def render_pdf(html: str, stylesheet: str = "report.css") -> bytes:
    """The PDF of `html`. What WeasyPrint logs in the child is logged here again."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_render_in_child, args=(sending, html, stylesheet))
    child.start()
    sending.close()
    try:
        if not receiving.poll(RENDER_TIMEOUT_SECONDS):
            raise PdfError(f"no PDF after {RENDER_TIMEOUT_SECONDS} s")
        document, records, failure = receiving.recv()
    except EOFError:
        raise PdfError("the renderer ended without a PDF") from None
    finally:
        receiving.close()
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()
    for record in records:
        logging.getLogger(record.name).handle(record)
    if failure is not None:
        raise PdfError(failure)
    return document


def _render_in_child(sending, html: str, stylesheet: str) -> None:
    records = []
    logger = logging.getLogger("weasyprint")
    logger.handlers, logger.propagate = [_Collector(records)], False  # the parent logs them
    document, failure = b"", None
    try:
        document = _render(html, stylesheet)
    except Exception as error:  # noqa: BLE001 (reported to the parent, which raises)
        failure = f"{type(error).__name__}: {error}"
    sending.send((document, records, failure))
    sending.close()


class _Collector(logging.Handler):
    """Keeps the child's WeasyPrint records (warnings and errors) for the parent."""

    def __init__(self, records: list):
        super().__init__(logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # sent as plain text
        record.exc_info = record.exc_text = None
        self.records.append(record)


def _render(html: str, stylesheet: str) -> bytes:
    # Imported here, in the child: WeasyPrint is heavy and only this route needs it.
    from weasyprint import CSS
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    class LocalOnly(URLFetcher):
        """Resources are read from our own static folder only (the stylesheet, given
        by its file name): any address in the HTML is refused, never fetched."""

        def fetch(self, url, headers=None):
            raise ValueError(f"external resource refused: {url[:60]}")

    stylesheets = [CSS(filename=str(STATIC / stylesheet))]
    return HTML(string=html, base_url=str(STATIC), url_fetcher=LocalOnly()).write_pdf(
        stylesheets=stylesheets, pdf_variant=PDF_VARIANT
    )
