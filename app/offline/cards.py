"""Results for people who answered offline: each imported assessment's private link, as
a CSV for the facilitator or as a printable sheet of result cards with QR codes.

The links exist only here: an assessment keeps a hash of its token, never the token,
so they are written once, by the import that made them."""

from __future__ import annotations

import csv
import io

from flask import render_template
from flask_babel import gettext as _

from ..assess.pdf import render_pdf
from ..i18n import content_for
from ..i18n import format_percentage
from ..i18n import in_language
from ..qr import qr_svg
from ..urls import external_url


def private_link(token: str, lang: str) -> str:
    return external_url("assess.resume", token=token, lang=lang)


def cards(report, questionnaire, lang: str) -> list[dict]:
    """One card per imported submission: its label, result and private link."""
    content = content_for(questionnaire, lang)
    found = []
    with in_language(lang):
        for row in report.imported:
            link = private_link(row.token, lang)
            found.append(
                {
                    "row": row.number,
                    "submission_id": row.submission_id,
                    "label": row.label or _("Row %(row)s", row=row.number),
                    "overall": format_percentage(row.result.overall or 0, lang),
                    "level": content(row.result.level, "title"),
                    "link": link,
                }
            )
    return found


def links_csv(report, questionnaire, lang: str) -> str:
    """The CSV of links: one line per imported submission, with its own label."""
    output = io.StringIO()
    writer = csv.writer(output)
    with in_language(lang):
        writer.writerow(
            [_("Row"), "instanceID", _("Organisation"), _("Overall"), _("Level"), _("Private link")]
        )
    for card in cards(report, questionnaire, lang):
        writer.writerow(
            [card["row"], card["submission_id"], card["label"], card["overall"], card["level"],
             card["link"]]
        )  # fmt: skip
    return output.getvalue()


def cards_pdf(report, questionnaire, lang: str) -> bytes:
    """A printable sheet of result cards, each with its link as a QR code."""
    items = cards(report, questionnaire, lang)
    for card in items:
        card["qr"] = qr_svg(card["link"])
    with in_language(lang):
        html = render_template(
            "offline/cards.html",
            cards=items,
            questionnaire=questionnaire,
            content=content_for(questionnaire, lang),
            lang=lang,
        )
    return render_pdf(html, stylesheet="cards.css")
