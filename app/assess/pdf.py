"""The results report as a PDF, rendered from the same HTML as the print view."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"


def render_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint is heavy and only this route needs it.
    from weasyprint import CSS
    from weasyprint import HTML

    stylesheets = [CSS(filename=str(STATIC / "report.css"))]
    # Resources are read from our own static folder only, never fetched over the network.
    return HTML(string=html, base_url=str(STATIC), url_fetcher=_local_only).write_pdf(
        stylesheets=stylesheets
    )


def _local_only(url: str, timeout: int = 10, ssl_context=None):
    raise ValueError(f"external resource refused: {url[:60]}")
