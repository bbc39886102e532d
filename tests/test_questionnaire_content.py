"""The shipped questionnaires: valid, reachable, actionable and fully translated."""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.catalogs import PLACEHOLDER
from app.catalogs import TAG
from app.engine import load_directory
from app.engine import score
from app.engine.model import CHOICE_TYPES
from app.engine.scoring import State
from app.engine.scoring import walk
from app.engine.texts import texts

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("ht", "en")


@cache
def _registry():
    return load_directory(ROOT / "questionnaires")


def real_questionnaires():
    return list(_registry())


@pytest.fixture(scope="module", params=[f"{q.id}-v{q.version}" for q in real_questionnaires()])
def questionnaire(request):
    return next(q for q in real_questionnaires() if f"{q.id}-v{q.version}" == request.param)


def representative_profiles(questionnaire):
    """Combinations of profile options and of the numbers that conditions compare with."""
    choices = []
    for field in questionnaire.profile:
        if field.type == "single":
            choices.append([o.value for o in field.options])
        elif field.type == "multiple":
            choices.append([frozenset(), frozenset(o.value for o in field.options[:1])])
        elif field.type == "number":
            low = int(field.min) if field.min is not None else 0
            choices.append(sorted({max(low, n) for n in (0, 5, 12, 30, 300)}))
        else:
            choices.append(["texto"])
    fields = [f.id for f in questionnaire.profile]
    # Vary the fields that conditions read; hold the others at their first value.
    read = set().union(*(q.when.names for q in questionnaire.fields.values() if q.when))
    varied = [c if f in read else c[:1] for f, c in zip(fields, choices, strict=True)]
    for combination in itertools.product(*varied):
        yield {f: v for f, v in zip(fields, combination, strict=True) if v != frozenset()}


def test_every_question_applies_to_some_organisation(questionnaire):
    reachable = set()
    for profile in representative_profiles(questionnaire):
        outcomes = walk(questionnaire, profile, {})
        reachable |= {q for q, o in outcomes.items() if o.state != State.HIDDEN_BY_PROFILE}
    assert {q.id for q in questionnaire.questions} - reachable == set()


def triggering_answers(question):
    if question.type in CHOICE_TYPES:
        return [o.value for o in question.options]
    if question.type == "multiple":
        values = [o.value for o in question.options]
        return (
            [[]]
            + [[v] for v in values]
            + [[v for v in values if not question.option_by_value[v].exclusive]]
        )
    if question.type == "number":
        return [0] + [int(b.min) for b in question.bands]
    return ["texto"]


def test_every_action_can_be_triggered(questionnaire):
    from app.engine.scoring import _triggers
    from app.engine.scoring import normalize

    for question in questionnaire.questions:
        for action in question.actions:
            answers = []
            for answer in triggering_answers(question):
                try:
                    answers.append(normalize(question, answer))
                except ValueError:
                    continue
            assert any(_triggers(action, question, a) for a in answers), action.id


def test_every_weak_answer_gets_an_action(questionnaire):
    """Each scored choice answer below half the points triggers at least one action."""
    from app.engine.scoring import _triggers

    for question in questionnaire.questions:
        if question.type not in CHOICE_TYPES or not question.scored:
            continue
        for option in question.options:
            if option.points < question.max_points / 2:
                assert any(_triggers(a, question, option.value) for a in question.actions), (
                    question.id,
                    option.value,
                )


@pytest.mark.parametrize(
    "organisation", ["empresa", "sin_fines_lucro", "gremio", "institucion_publica"]
)
def test_best_answers_reach_the_top_level_for_every_organisation_type(organisation):
    questionnaire = _registry().get("compromiso-migrante")
    for profile in representative_profiles(questionnaire):
        if profile.get("p_tipo_organizacion") != organisation:
            continue
        best = {q.id: q.best_answer() for q in questionnaire.questions}
        result = score(questionnaire, profile, best)
        assert (result.overall, result.level.id) == (100, questionnaire.levels[-1].id), profile


def test_levels_include_legal_requirements_pending_and_at_least_four():
    questionnaire = _registry().get("compromiso-migrante")
    assert len(questionnaire.levels) >= 4
    assert questionnaire.levels[0].id == "requisitos_legales_pendientes"
    assert all(level.description and level.next_steps for level in questionnaire.levels)
    assert questionnaire.disclaimer


def test_every_scored_question_is_tagged_and_explained(questionnaire):
    commitments = {c.id for c in questionnaire.commitments}
    for dimension in questionnaire.dimensions:
        if dimension.legal:
            continue
        assert 8 <= len(dimension.questions) <= 12, dimension.id
        for question in dimension.questions:
            assert set(question.commitments) <= commitments and question.commitments, question.id
            assert question.help and question.evidence, question.id
    covered = {c for q in questionnaire.questions for c in q.commitments}
    assert covered == commitments


@cache
def catalog(lang):
    path = ROOT / "translations" / lang / "LC_MESSAGES" / "questionnaires.po"
    with path.open("rb") as handle:
        return {(m.context, m.id): m.string for m in read_po(handle) if m.id}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_questionnaire_text_is_translated(questionnaire, lang):
    translations = catalog(lang)
    missing = [
        context
        for context, text, _line, _note in texts(questionnaire)
        if not translations.get((context, text))
    ]
    assert missing == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_and_markup_survive_translation(questionnaire, lang):
    translations = catalog(lang)
    for context, text, _line, _note in texts(questionnaire):
        translated = translations[(context, text)]
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(text)), context
        assert set(TAG.findall(translated)) <= set(TAG.findall(text)), context
        assert translated.count("](http") == text.count("](http"), context
        assert translated.strip() != text.strip() or len(text) < 12, context


def test_haitian_creole_uses_only_grave_accents():
    """Official Haitian Creole spelling has only è, ò and à. A word with another accent
    may only be part of an official Spanish name copied from the source text."""
    import re

    accented = re.compile(r"\w*[áéíóúâêîôûëïü]\w*", re.IGNORECASE)
    offenders = set()
    for (_context, source), text in catalog("ht").items():
        source_words = set(re.findall(r"\w+", source if isinstance(source, str) else source[0]))
        offenders |= {w for w in accented.findall(text) if w not in source_words}
    assert offenders == set()
