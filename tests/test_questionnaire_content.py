"""The shipped questionnaires: valid, reachable, actionable and fully translated."""

from __future__ import annotations

import itertools
import re
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

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


def newest_questionnaires():
    """The version of each questionnaire that new assessments start: older versions
    stay as they were published, for the assessments pinned to them."""
    return [_registry().get(qid) for qid in sorted({q.id for q in real_questionnaires()})]


@pytest.fixture(scope="module", params=[f"{q.id}-v{q.version}" for q in newest_questionnaires()])
def newest(request):
    return next(q for q in newest_questionnaires() if f"{q.id}-v{q.version}" == request.param)


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
        assert 8 <= len(dimension.questions) <= 18, dimension.id  # two pages at most
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


# --- What the newest version of each questionnaire promises ---------------------

# A sentence ends at . ! ? before a capital, a quote or a list number ("art. 14" goes on),
# or at a semicolon.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«¿¡*(\"“]|\d+\))|;\s+")
WORD = re.compile(r"[^\W_]+(?:[-'’.,][^\W_]+)*")  # 21.325 is one word
MAX_WORDS = 24  # every sentence under 25 words
DEAD_FORMATS = (".doc", ".docx", ".ppt", ".pps", ".swf", ".flv", ".rtf", ".xls")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def longest_sentence(text: str) -> tuple[int, str]:
    """The word count of the longest sentence of a text, and the sentence."""
    sentences = SENTENCE_END.split(text.strip())
    return max(((len(WORD.findall(s)), s) for s in sentences), default=(0, ""))


def test_every_practice_says_why_it_matters(newest):
    missing = [q.id for q in newest.questions if not q.why.strip()]
    assert missing == []


def resource_problem(url: str, languages) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "not https"
    if parts.path in ("", "/") and not parts.query:
        return "a home page, not the page that does the thing"
    if parts.path.lower().endswith(DEAD_FORMATS) or "javascript:" in url.lower():
        return "a format a phone cannot open"
    if not languages or not all(LANGUAGE_CODE.match(code) for code in languages):
        return "no language (`lang: es`, or `es+ht`)"
    return ""


@pytest.mark.parametrize(
    ("url", "languages", "problem"),
    [
        ("https://www.dt.gob.cl/", ("es",), "home page"),
        ("https://serviciomigraciones.cl", ("es",), "home page"),
        ("http://www.ilo.org/santiago/x.htm", ("es",), "https"),
        ("https://example.cl/guia.doc", ("es",), "format"),
        ("https://www.isl.gob.cl/ley-karin/", (), "language"),
        ("https://www.isl.gob.cl/ley-karin/", ("es", "ht"), ""),
    ],
)
def test_the_link_check_tells_a_deep_link_from_a_home_page(url, languages, problem):
    found = resource_problem(url, languages)
    assert (problem in found) if problem else found == ""


def test_every_link_goes_to_the_page_that_does_the_thing_in_a_named_language(newest):
    problems = [
        (action.id, resource.url, problem)
        for question in newest.questions
        for action in question.actions
        for resource in action.resources
        if (problem := resource_problem(resource.url, resource.languages))
    ]
    assert problems == []


def help_and_why(questionnaire):
    for context, text, _line, _note in texts(questionnaire):
        if context.endswith(("/help", "/why")):
            yield context, text


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_help_and_why_read_in_sentences_under_25_words(newest, lang):
    """Read aloud to a worker with little schooling, a long sentence is lost."""
    translations = catalog(lang) if lang != newest.language else None
    too_long = []
    for context, text in help_and_why(newest):
        shown = translations.get((context, text), "") if translations else text
        words, sentence = longest_sentence(shown)
        if words > MAX_WORDS:
            too_long.append((context, words, sentence[:80]))
    assert too_long == []


def test_the_sentence_count_reads_a_list_and_an_abbreviation():
    assert longest_sentence("Uno dos. Tres cuatro cinco; seis.")[0] == 3
    assert longest_sentence("Ley 21.325, art. 14: los mismos derechos.")[0] == 7
    assert longest_sentence("Cuente así. 1) A todo el personal. 2) Sin especialistas.")[0] == 5


NEW_IN_VERSION_2 = {
    "legal_pago_salario": "Principios de Dhaka, principio 5",
    "legal_deudas_descuentos": "IRIS",
    "g_informacion_seguridad": "Ley 21.325, arts. 14 y 117",
    "g_libertad_sindical": "Código del Trabajo, art. 2",
    "g_permisos_en_tramite": "Ley 21.325, art. 117",
    "g_alojamiento_temporada": "Principios de Dhaka, principio 7",
    "e_acompanamiento_tecnico": "ACNUR",
    "e_acoso_terceros": "Ley 21.643",
    "g_canal_garantias": "Ley 21.643",
    "g_induccion_temas": "Dirección del Trabajo",
}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_practices_version_2_adds_are_cited_explained_and_translated(lang):
    questionnaire = _registry().get("compromiso-migrante", 2)
    translations = catalog(lang)
    for question_id, cited in NEW_IN_VERSION_2.items():
        question = questionnaire.fields[question_id]
        assert cited in question.source and question.why and question.help, question_id
        assert question.actions and question.evidence, question_id
        for part in ("text", "help", "why", "source", "evidence"):
            context = f"compromiso-migrante/{question_id}/{part}"
            assert translations.get((context, getattr(question, part))), (context, lang)


def test_why_is_shown_under_the_question_on_paper_and_in_the_plan(make_app):
    from html import unescape

    from tests.support.content import SHIPPED
    from tests.support.visitor import Visitor
    from tests.support.visitor import worst

    questionnaire = _registry().get("compromiso-migrante")
    question = questionnaire.fields["g_canal_denuncias"]
    why = catalog("ht")[("compromiso-migrante/g_canal_denuncias/why", question.why)]
    client = make_app(**SHIPPED).test_client()
    assert why in unescape(client.get("/ht/questionnaire").get_data(as_text=True))
    visitor = Visitor(client, "ht")
    visitor.start()
    step = questionnaire.section_of[question.id]
    visitor.get(f"/ht/a/{visitor.token}/s/{step.id}")
    widget = visitor.page.split(f'id="q-{question.id}"')[1].split("</fieldset>")[0]
    words = " ".join(unescape(re.sub(r"<[^>]+>", "", widget)).split())
    assert f"Poukisa sa enpòtan: {why}" in words  # the UI's label, then the translated why
    visitor.get(f"/ht/a/{visitor.token}/s/{questionnaire.sections[1].id}")
    visitor.answer_all(worst)
    visitor.submit()
    plan = unescape(visitor.page.split('id="plan-title"')[1])
    assert why in plan
