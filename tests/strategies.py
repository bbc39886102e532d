"""Hypothesis strategies: valid profiles and answers for any questionnaire."""

from __future__ import annotations

from hypothesis import strategies as st

from app.engine.model import CHOICE_TYPES
from app.engine.model import DONT_KNOW
from app.engine.model import NOT_APPLICABLE


def _number(question):
    low = int(question.min) if question.min is not None else 0
    high = int(question.max) if question.max is not None else low + 10_000
    return st.integers(min_value=low, max_value=high)


def answer_values(question, special=True):
    """Every kind of valid answer to one question."""
    if question.type in CHOICE_TYPES:
        base = st.sampled_from([o.value for o in question.options])
    elif question.type == "multiple":
        plain = [o.value for o in question.options if not o.exclusive]
        exclusive = [[o.value] for o in question.options if o.exclusive]
        subsets = st.lists(st.sampled_from(plain), unique=True) if plain else st.just([])
        base = st.one_of(subsets, st.sampled_from(exclusive)) if exclusive else subsets
    elif question.type == "number":
        base = _number(question)
    else:
        base = st.text(max_size=50).filter(lambda s: "\x00" not in s)
    extra = []
    if special and question.allow_na:
        extra.append(NOT_APPLICABLE)
    if special and question.dont_know:
        extra.append(DONT_KNOW)
    return st.one_of(base, st.sampled_from(extra)) if extra else base


@st.composite
def profiles(draw, questionnaire):
    return {
        field.id: draw(answer_values(field))
        for field in questionnaire.profile
        if draw(st.booleans()) or field.required
    }


@st.composite
def answer_sets(draw, questionnaire, special=True):
    return {
        question.id: draw(answer_values(question, special))
        for question in questionnaire.questions
        if draw(st.integers(0, 4))  # leave about one in five unanswered
    }
