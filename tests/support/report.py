"""Reading a results report: its parts by CSS selector, its text as words, and the
bars its PDF draws.

The HTML parser and selector engine are WeasyPrint's own (tinyhtml5, cssselect2), so
the page is read as the PDF renderer reads it; the PDF is read with pypdf."""

from __future__ import annotations

import cssselect2
import tinyhtml5
from pypdf.generic import ContentStream


def select(html: str, selector: str) -> list:
    """The elements of `html` that match a CSS selector, in document order."""
    root = cssselect2.ElementWrapper.from_html_root(tinyhtml5.parse(html))
    return [wrapper.etree_element for wrapper in root.query_all(selector)]


def words(text: str) -> str:
    """Text with every run of white space made one space (as a PDF's text comes out,
    broken into lines anywhere)."""
    return " ".join(text.split())


def text_of(element) -> str:
    return words("".join(element.itertext()))


def rectangles(pdf) -> list[tuple[tuple, float, float, float]]:
    """Every rectangle a PDF (a pypdf reader) fills, as (fill colour, x, y, width), in
    drawing order."""
    found = []
    for page in pdf.pages:
        fill = None
        for operands, operator in ContentStream(page.get_contents(), pdf).operations:
            if operator == b"rg":
                fill = tuple(float(value) for value in operands)
            elif operator == b"re":
                x, y, width, _height = (float(value) for value in operands)
                found.append((fill, x, y, width))
    return found


def chart_bars(pdf) -> list[tuple[float, float]]:
    """(track width, bar width) of each bar of the score chart, top to bottom: a track
    (the whole scale) followed by a bar from the same corner, in a colour of its own."""
    drawn = rectangles(pdf)
    return [
        (track[3], bar[3])
        for track, bar in zip(drawn, drawn[1:], strict=False)
        if track[1:3] == bar[1:3] and track[0] != bar[0] and 0 < bar[3] <= track[3]
    ]
