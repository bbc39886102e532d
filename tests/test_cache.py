"""Caches cannot serve stale or foreign data: every cache is declared in
app/cache.py, and the cached template fragments can read only what their key holds."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import nodes

from app.cache import APP_CACHES
from app.cache import APP_CACHES_MAX_BYTES
from app.cache import DECLARATIONS
from app.compression import PageWithHoles
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.content import MINI_PROFILE
from tests.support.visitor import Visitor
from tests.support.visitor import best

APP = Path(__file__).resolve().parent.parent / "app"
# Functions that are the same for every request; the language they format in is in
# every fragment's key.
GLOBAL_HELPERS = {
    "_", "gettext", "ngettext", "format_number", "format_percentage", "format_day",
    "language_name", "languages", "loop",
}  # fmt: skip
# Each cached fragment with the names its key covers (see app/cache.py).
FRAGMENTS = {
    # Question widgets: the macro's arguments only.
    "_macros.html": set(),
    # Results reports: the result and what the key holds; never the token.
    "assess/_report.html": {
        "assessment",
        "questionnaire",
        "content",
        "journey",
        "result",
        "previous",
        "plan",
        "benchmark",
        "answer_label",
        "next_level",  # derived from the result
        "top",  # derived from the result
        "opened",  # folded lists drawn open (the PDF): in the key
        "describe",
    },  # fmt: skip
    # Landing pages, kept only for visitors without login or messages (`personal`).
    "landing.html": {"questionnaire", "content", "retention_days", "url_for"},
    # Step pages, kept with holes for the token and the CSRF token (views.step_page): the
    # names it is rendered with, each a function of the key (a token or CSRF token
    # only as a hole).
    "assess/step.html": {
        "questionnaire",
        "content",
        "step",
        "questions",
        "form",
        "token",
        "number",
        "total",
        "calculator",
        "calculator_fields",
        "question_widget",
        "is_first",
        "notice",
        "questionnaire_field",
        "returning",
        "form_id",
        "form_action",
        "language_actions",
        "language_name",
        "lang",
        "super",
        "url_for",
        "csrf_token",
    },  # fmt: skip
    "assess/_link.html": {"token", "external_url", "url_for"},
    "base.html": {
        "current_language",
        "switch_language_url",
        "current_user",
        "get_flashed_messages",
        "url_for",
        "csrf_token",
    },  # fmt: skip
}


def free_names(app, template: str) -> set[str]:
    """Names a template reads that it does not define itself (sets, loops, macro
    arguments, imports): what it takes from the render context or the globals."""
    env = app.jinja_env
    tree = env.parse(env.loader.get_source(env, template)[0])
    loaded = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
    defined = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    defined |= {m.name for m in tree.find_all(nodes.Macro)}
    if any(tree.find_all(nodes.CallBlock)):
        defined.add("caller")  # the body of a {% call %} in the template itself
    for imported in tree.find_all(nodes.FromImport):
        defined |= {name if isinstance(name, str) else name[1] for name in imported.names}
    return loaded - defined


@pytest.mark.parametrize("template", sorted(FRAGMENTS))
def test_cached_fragments_read_only_their_key(app, template):
    outside = free_names(app, template) - FRAGMENTS[template] - GLOBAL_HELPERS
    assert not outside, f"{template} reads {sorted(outside)}, which its cache key does not hold"


def test_question_macro_is_imported_without_context(app):
    env = app.jinja_env
    tree = env.parse(env.loader.get_source(env, "assess/step.html")[0])
    imports = [i for i in tree.find_all(nodes.FromImport) if i.template.value == "_macros.html"]
    assert imports and not any(i.with_context for i in imports)


def test_every_cache_is_declared_in_the_cache_module():
    mechanism = re.compile(
        r"lru_cache|functools\.cache|@cache\b|BoundedCache\(|AppCache\(|extensions\.setdefault"
    )
    offenders = [
        f"{path.relative_to(APP)}:{number}"
        for path in APP.rglob("*.py")
        if path.name != "cache.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if mechanism.search(line)
    ]
    assert offenders == []
    assert len({d.name for d in DECLARATIONS}) == len(DECLARATIONS)
    assert all(d.size > 0 and d.key and d.why for d in DECLARATIONS)


def test_two_visitors_with_the_same_answers_get_their_own_links(client, app):
    first, second = Visitor(client), Visitor(app.test_client())
    first.start()
    second.start()
    first.get(first.url)  # the same step, same answers: widgets come from the cache
    second.get(second.url)
    assert first.token != second.token
    assert first.token in first.page and second.token not in first.page
    assert second.token in second.page and first.token not in second.page


def kept_pages(app, kind: str) -> list[str]:
    kept = app.extensions.get("caches", {}).get("pages with holes")
    pages = kept._entries.items() if kept else []
    return [b"".join(page.parts).decode() for key, page in pages if key[0] == kind]


def kept_step_pages(app) -> list[str]:
    return kept_pages(app, "step")


def test_kept_step_pages_carry_each_visitors_own_token_and_csrf_token(app):
    """Two visitors on the same step with the same answers share one kept page; each
    gets it with its own private link and its own CSRF token, and can save with it."""
    first, second = Visitor(app.test_client()), Visitor(app.test_client())
    for visitor in (first, second):
        visitor.start()  # the step after the profile, with the "created" message
        visitor.get(visitor.url)  # the same step without it: a page that may be kept
    assert len(kept_step_pages(app)) == 1
    assert first.token != second.token and first.csrf_token != second.csrf_token
    for visitor, other in ((first, second), (second, first)):
        assert visitor.token in visitor.page and visitor.csrf_token in visitor.page
        assert other.token not in visitor.page and other.csrf_token not in visitor.page
    for kept in kept_step_pages(app):
        for visitor in (first, second):
            assert visitor.token not in kept and visitor.csrf_token not in kept
    step = second.url
    second.submit()  # its own CSRF token is accepted: the save moves on
    assert second.url != step and "/s/" in second.url or "/review" in second.url


def test_a_kept_results_page_carries_the_visitors_own_token_everywhere(app):
    visitor = Visitor(app.test_client())
    visitor.start()
    visitor.answer_all(best)
    visitor.submit()
    assert visitor.url.endswith("/results")
    visitor.get(visitor.url)  # without the "submitted" message: a page that may be kept
    kept = kept_pages(app, "results")
    assert len(kept) == 1 and visitor.token not in kept[0]
    assert visitor.csrf_token not in kept[0]
    again = visitor.client.get(f"/ht/a/{visitor.token}/results").get_data(as_text=True)
    assert len(kept_pages(app, "results")) == 2  # one per language
    for lang in ("es", "en"):  # the header's links to the other languages
        assert f'href="/{lang}/a/{visitor.token}/results"' in again
    visitor.page = again
    response = visitor.client.post(
        f"/ht/a/{visitor.token}/reassess", data={"csrf_token": visitor.csrf_token}
    )
    assert response.status_code == 302  # its own CSRF token is accepted


def test_a_kept_step_page_is_the_same_compressed_or_not(app):
    visitor = Visitor(app.test_client())
    visitor.start()
    plain = visitor.client.get(visitor.url)
    for _ in range(2):  # the first compressed whole, the next from pre-deflated parts
        packed = visitor.client.get(visitor.url, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert plain.headers["Content-Type"] == packed.headers["Content-Type"]
        assert gzip.decompress(packed.data) == plain.data
        assert len(packed.data) < len(plain.data) / 2


def test_step_pages_with_a_message_or_for_a_logged_in_user_are_not_kept(app):
    create_association(app, "Gremio", "gremio@example.cl")
    member = app.test_client()
    login(member, "gremio@example.cl")
    logged_in = Visitor(member)
    logged_in.start()
    logged_in.get(logged_in.url)
    assert "Log out" in logged_in.page or "Cerrar sesión" in logged_in.page
    assert kept_step_pages(app) == []
    anonymous = Visitor(app.test_client())
    anonymous.start()  # its first page shows the "created" message: not kept either
    assert kept_step_pages(app) == []
    anonymous.get(anonymous.url)
    assert len(kept_step_pages(app)) == 1
    assert "logout" not in kept_step_pages(app)[0]


holes = ("hole-a", "hole-b")


@given(
    # Without "-", no text can hold a hole's marker ("hole-a").
    pieces=st.lists(
        st.text(st.characters(codec="utf-8", exclude_characters="-"), max_size=300),
        min_size=1,
        max_size=6,
    ),
    values=st.tuples(st.text(max_size=80), st.text(max_size=80)),
)
def test_a_page_with_holes_fills_them_and_gzips_to_the_same_bytes(pieces, values):
    html = "".join(piece + holes[i % 2] for i, piece in enumerate(pieces))
    expected = "".join(piece + values[i % 2] for i, piece in enumerate(pieces)).encode()
    filled = dict(zip(holes, values, strict=True))
    page = PageWithHoles(html, holes)
    assert page.body(filled) == expected
    first, kept = page.gzipped(filled), page.gzipped(filled)  # whole, then from its parts
    assert gzip.decompress(first) == gzip.decompress(kept) == expected


def test_a_cache_is_bounded_in_bytes_as_well_as_entries():
    from app.cache import BoundedCache

    cache = BoundedCache(size=100, max_bytes=10_000)
    for number in range(50):
        cache.put(number, "x" * 1_000)
    assert cache.bytes <= 10_000 and len(cache._entries) < 10
    assert cache.get(49) is not None and cache.get(0) is None  # the oldest went first
    cache.put("huge", "x" * 20_000)  # larger than the whole budget: not kept
    assert cache.get("huge") is None and cache.get(49) is not None
    cache.put(49, "y")  # replacing an entry gives its bytes back
    assert cache.bytes < 10_000 - 900
    assert all(d.max_bytes > 0 for d in DECLARATIONS)


def test_the_caches_of_a_worker_fit_its_memory_budget():
    """bench/soak.py: a worker stays under 120 MB only if its caches stay under this."""
    from app import cache

    caches = {v.declaration for v in vars(cache).values() if isinstance(v, cache.AppCache)}
    assert caches == set(APP_CACHES)
    assert sum(d.max_bytes for d in APP_CACHES) <= APP_CACHES_MAX_BYTES


def test_a_lent_step_form_keeps_nothing_of_the_last_post(app):
    """Step forms are lent to one request at a time from an idle list
    (cache.IDLE_STEP_FORMS): the next post of the same step sees none of the last
    one's input, and none of its messages."""
    first, second = Visitor(app.test_client()), Visitor(app.test_client())
    typed = "9q8w7e"  # not a number: shown again, with its message
    first.get("/es/a/new")
    refused = first.submit(MINI_PROFILE | {"p_dotacion_total": typed}, follow=False)
    assert refused.status_code == 422 and typed in first.page
    assert 'id="error-p_dotacion_total"' in first.page
    with app.app_context():
        idle = [forms for forms in app.extensions["caches"]["idle step forms"]._entries.values()]
    assert [len(forms) for forms in idle] == [1], "the form was not returned"
    second.get("/es/a/new")
    other = "7"  # a second post of the same step, wrong elsewhere: its form is the lent one
    second.submit(MINI_PROFILE | {"p_dotacion_extranjera": other, "p_sector": ""}, follow=False)
    assert second.page.count('class="error-message"') >= 1, "the second post was refused"
    assert typed not in second.page and 'id="error-p_dotacion_total"' not in second.page
    assert [len(forms) for forms in idle] == [1], "a new form was built instead of the lent one"


def test_a_lent_step_form_is_drawn_without_the_last_posts_messages(app):
    """A post drawn again without validating it (an outage: views.redraw_post) gets a
    lent form with no message left from the request that used it before."""
    from werkzeug.datastructures import MultiDict

    from app.assess.forms import add_error
    from app.assess.forms import return_borrowed_forms
    from app.assess.forms import section_form
    from app.i18n import content_for

    with app.test_request_context("/es/a/new", method="POST"):
        questionnaire = app.extensions["questionnaires"].get(app.config["QUESTIONNAIRE"])
        questions, content = questionnaire.sections[0].questions, content_for(questionnaire)
        lent = section_form(questions, content, {}, formdata=MultiDict({"p_dotacion_total": "x"}))
        lent.validate()
        add_error(lent, "p_sector", "a message for the first post only")
        assert lent.errors
        return_borrowed_forms()
        again = section_form(questions, content, {}, formdata=MultiDict(MINI_PROFILE))
        assert again is lent, "the idle form was not lent again"
        assert again.errors == {}
        assert again.data["p_dotacion_total"] == 80 and again["p_dotacion_total"].raw_data == ["80"]
