"""Reading a results report: its parts by CSS selector, and its text as words.

The HTML parser and selector engine are WeasyPrint's own (tinyhtml5, cssselect2), so
the page is read as a browser and the PDF renderer read it."""

from __future__ import annotations

import cssselect2
import tinyhtml5


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
