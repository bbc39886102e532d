"""QR codes of links handed on paper (the campaign flyer, the assessment card)."""

from __future__ import annotations

from markupsafe import Markup


def qr_svg(link: str) -> Markup:
    """`link` as an inline SVG QR code, sized by the stylesheet (a viewBox, no width or
    height: a long link's code is scaled down, never cut). segno writes plain paths: no
    script, no style attribute, no external resource, so the strict CSP allows it."""
    import segno  # here: ~9 MB that a worker loads only once it draws a card or a flyer

    svg = segno.make(link, error="m").svg_inline(omitsize=True, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 (segno's SVG: paths only, from our own link)
