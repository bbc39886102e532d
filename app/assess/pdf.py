"""The results report as a PDF, rendered from the same HTML as the print view."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
# Tagged for screen readers (a structure tree, headings, lists and tables as tags, the
# chart's <title> as its alternative text), with /Lang from <html lang> and the title
# shown: what PDF/UA-1 asks of the document.
PDF_VARIANT = "pdf/ua-1"


def render_pdf(html: str, stylesheet: str = "report.css") -> bytes:
    # Imported here: WeasyPrint is heavy and only this route needs it.
    from weasyprint import CSS
    from weasyprint import HTML

    stylesheets = [CSS(filename=str(STATIC / stylesheet))]
    # Resources are read from our own static folder only, never fetched over the network.
    return HTML(string=html, base_url=str(STATIC), url_fetcher=_local_only).write_pdf(
        stylesheets=stylesheets, pdf_variant=PDF_VARIANT
    )


def _local_only(url: str, timeout: int = 10, ssl_context=None):
    raise ValueError(f"external resource refused: {url[:60]}")
