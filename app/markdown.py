"""A small, safe subset of Markdown for questionnaire text: paragraphs,
*emphasis*, **strong** and [links](https://...).

The text is escaped first, so only the tags made here can appear
(docs/SECURITY.md T2: questionnaire text is not trusted markup).
"""

from __future__ import annotations

import re

from markupsafe import Markup
from markupsafe import escape

from .cache import MARKDOWN
from .cache import memoized

LINK = re.compile(
    r"\[([^\]\n]{1,200})\]\((https?://[^\s)&<>\"']{1,500}(?:&amp;[^\s)&<>\"']{1,500})*)\)"
)
STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")


@memoized(MARKDOWN)
def inline(text: str) -> Markup:
    html = str(escape(text))
    html = LINK.sub(r'<a href="\2" rel="noopener noreferrer">\1</a>', html)
    html = STRONG.sub(r"<strong>\1</strong>", html)
    html = EMPHASIS.sub(r"<em>\1</em>", html)
    return Markup(html)  # noqa: S704 (built from escaped text only)


@memoized(MARKDOWN)
def markdown(text: str) -> Markup:
    """Paragraphs separated by blank lines; lines within a paragraph are joined."""
    if not text:
        return Markup("")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return Markup("").join(Markup("<p>%s</p>") % inline(p) for p in paragraphs)
