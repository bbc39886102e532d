"""The results page leads to action (issue 15): the verdict, what the next level needs
and the first actions come first; the scores and commitments follow; the whole plan
and the checklists are folded in <details> that open without JavaScript."""

from __future__ import annotations

import pytest

from tests.support.content import SHIPPED
from tests.support.report import select
from tests.support.report import text_of
from tests.support.visitor import Visitor
from tests.support.visitor import best
from tests.support.visitor import worst

# The sections of a report, top to bottom, by the id of their heading.
ORDER = (
    "verdict-title",
    "next-level-title",
    "top-title",
    "areas-title",
    "commitments-title",
    "plan-title",
    "verify-title",
    "evidence-title",
    "next-title",
)


@pytest.fixture
def shipped(make_app):
    return make_app(**SHIPPED).test_client()


def results_page(client, choose, lang="en") -> str:
    visitor = Visitor(client, lang)
    visitor.start()
    visitor.answer_all(choose)
    visitor.submit()
    assert visitor.url.endswith("/results")
    return visitor.page


def sections_in_order(page: str) -> list[str]:
    return sorted((h for h in ORDER if f'id="{h}"' in page), key=lambda h: page.index(f'id="{h}"'))


def plan_groups(page: str) -> dict[str, list[str]]:
    """The whole plan's action texts, by the heading of their group, in page order."""
    headings = select(page, "section.plan h3")
    lists = select(page, "section.plan ol.actions")
    assert len(headings) == len(lists)
    return {
        text_of(heading): [text_of(t) for t in items.iter() if t.get("class") == "action-text"]
        for heading, items in zip(headings, lists, strict=True)
    }


def test_a_firm_failing_must_haves_reads_the_verdict_then_what_to_do_first(shipped):
    def choose(question):  # the worst answers, but "I don't know" on one must-have
        return "dont_know" if question.id == "legal_cotizaciones" else worst(question)

    page = results_page(shipped, choose)
    # The next level asks only for the must-haves: the verdict says so, no section repeats it.
    assert sections_in_order(page) == [h for h in ORDER if h != "next-level-title"]
    verdict = select(page, "section.verdict")[0]
    assert "blocking" in verdict.get("class")
    assert text_of(select(page, "#verdict-title")[0]) == "You cannot apply yet"
    assert "To reach “" in text_of(verdict)
    named = [text_of(li) for li in select(page, "section.verdict .must-haves li")]
    assert len(named) >= 5 and all("Your answer: " in item for item in named)
    assert any(item.endswith("Your answer: I don't know") for item in named)

    top = [text_of(t) for t in select(page, "section.top-actions .action-text")]
    groups = plan_groups(page)
    plan = [text for texts in groups.values() for text in texts]
    assert top == plan[: len(top)]  # the head of the plan, in the plan's order
    pressing = len(groups.get("Required before you can apply", [])) + len(
        groups.get("For the next level", [])
    )
    assert len(plan) > 7 and len(top) == max(5, min(pressing, 7))
    first = select(page, "section.top-actions li")[0]
    assert "Legal requirement" in text_of(first) and "Within 30 days" in text_of(first)


def test_the_whole_plan_and_the_checklists_are_folded_and_open_without_javascript(shipped):
    def choose(question):
        return "dont_know" if question.id == "legal_cotizaciones" else worst(question)

    page = results_page(shipped, choose)
    for section in ("plan", "verify", "evidence"):
        folds = select(page, f"section[aria-labelledby={section}-title] > details")
        assert len(folds) == 1, section
        fold = folds[0]
        assert fold.get("open") is None  # folded on the page
        summary = fold[0]
        assert summary.tag.endswith("summary") and "Show the list (" in text_of(summary)
        assert len(fold) > 1 and text_of(fold[1])  # the list itself, in the page's HTML
    assert "<script" not in page.split("<main")[1].split("</main>")[0]  # native <details>


def test_a_firm_with_the_basics_met_reads_what_the_next_level_needs_first(shipped):
    lowest = min(Visitor(shipped).questionnaire.fields["g_responsable_inclusion"].options,
                 key=lambda o: o.points)  # fmt: skip

    def choose(question):
        return lowest.value if question.id == "g_responsable_inclusion" else best(question)

    page = results_page(shipped, choose)
    order = sections_in_order(page)
    assert order[:3] == ["verdict-title", "next-level-title", "top-title"]
    assert "clear" in select(page, "section.verdict")[0].get("class")
    assert not select(page, "section.verdict .must-haves")
    first = text_of(select(page, "section.top-actions li")[0])
    assert first.startswith("For the next level")  # the action the next level waits for
