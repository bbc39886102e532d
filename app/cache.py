"""Every cache of the application, declared in one place.

Each declaration names what its key is made of and why an entry can never be
stale or belong to someone else. Two kinds:

- `AppCache`: per application instance (tests and benchmarks run several apps on
  different databases in one process), bounded, least recently used first out.
- `memoized`: a pure function of its arguments, the same in every app (text in,
  HTML out), bounded by functools.lru_cache.

Nothing else in `app/` keeps data between requests (tests/test_cache.py checks).
"""

from __future__ import annotations

import functools
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app

_ABSENT = object()
MB = 1024 * 1024


@dataclass(frozen=True)
class Declaration:
    name: str
    size: int  # entries, at most
    key: str  # what the key is made of
    why: str  # why an entry is never stale and never another visitor's
    max_bytes: int = 8 * MB  # the most its entries may weigh together, per worker
    entry_bytes: int = 0  # the weight of an entry that is not text (an estimate)


# --- Per application ---------------------------------------------------------
#
# Together at most APP_CACHES_MAX_BYTES per worker: a worker starts at about 90 MB, its
# first pages in each language load ~15 MB more (locale data, catalogs, templates), and
# it must stay under 120 MB however long it runs (bench/soak.py). Entry weights of objects
# were measured with tracemalloc on the shipped questionnaire.
APP_CACHES_MAX_BYTES = 12 * MB

QUESTION_WIDGETS = Declaration(
    "question widgets",
    4096,  # every state of every choice question in three languages, ~1-2 KB each
    key="questionnaire id, version and file sha256, language, question id and wording, "
    "posted raw data, parsed value, original value",
    why="the HTML is a function of exactly these; the macro is imported without context, "
    "so it cannot read the token or anything else (tests/test_cache.py proves it); free "
    "text, errors and calculator results are never cached",
    max_bytes=int(1.5 * MB),
)
LOCKED_RESULTS = Declaration(
    "locked results",
    512,
    key="assessment id, submitted_at",
    why="a submitted assessment's answers never change; a deleted and re-created id has "
    "another submitted_at",
    max_bytes=2 * MB,
    entry_bytes=40 * 1024,  # a journey (4 KB) and its result's objects (27-36 KB)
)
RESULT_REPORTS = Declaration(
    "results reports",
    256,  # ~15 KB each: the most recent few hundred visits, in each language
    key="questionnaire sha256, assessment id, submitted_at, language, previous assessment "
    "id, campaign medians, lists folded (page) or open (PDF)",
    why="the report template reads only the result and these (tests/test_cache.py); the "
    "token and CSRF token stay outside it, in the page around it",
    max_bytes=int(1.5 * MB),
)
RESULT_PDFS = Declaration(
    "results PDFs",
    32,  # ~50-80 KB each (7-11 tagged pages of the shipped questionnaire)
    key="the key of the results report (RESULT_REPORTS), which holds the language",
    why="the PDF is rendered from that report and the page title (questionnaire and "
    "language); the token is not in it; rendering takes seconds of CPU (bench/pdf.py)",
    max_bytes=1 * MB,
)
# A PDF larger than this is served but not kept, so one large PDF never pushes out the rest.
RESULT_PDF_MAX_BYTES = 256 * 1024
FORM_CLASSES = Declaration(
    "form classes",
    512,
    key="questionnaire id, version and file sha256, language, ids and wordings of the "
    "questions shown",
    why="a class holds only field definitions from the questionnaire; each request makes "
    "its own form instance with its own data",
    max_bytes=1 * MB,
    entry_bytes=16 * 1024,
)
IDLE_STEP_FORMS = Declaration(
    "idle step forms",
    512,
    key="the key of the form's class (FORM_CLASSES)",
    why="a list of forms no request is using: one is lent to a single request at a time "
    "(forms.borrowed_form) and taken off the list meanwhile; before it is read, each "
    "borrower processes it with its own post, which replaces every field's data and raw "
    "data, and clears its errors: nothing of the last borrower's post stays readable",
    max_bytes=1 * MB,  # taken from JOURNEYS and PAGES_WITH_HOLES: the total is unchanged
    entry_bytes=20 * 1024,  # a step's form of nine questions (tracemalloc); most hold one
)
JOURNEYS = Declaration(
    "journeys",
    512,
    key="questionnaire id, version and file sha256, and the profile and answers (as "
    "values, or as the stored JSON text the page read them in: store.stored_answers)",
    why="a journey is a pure function of the questionnaire and the values (app/engine is "
    "pure and a Journey is never changed after it is built: with_values makes a new one); "
    "it holds answers, never a token",
    max_bytes=1 * MB,
    entry_bytes=4 * 1024,  # its profile, answers and hidden questions (outcomes: only if asked)
)
PAGES_WITH_HOLES = Declaration(
    "pages with holes",
    512,  # ~30 KB each, kept twice (text and pre-deflated parts)
    key="the page (a step or the results) and what its template reads: for a step, the "
    "questionnaire id, version and file sha256, language, step, whether it returns to the "
    "review, its place in the journey (number of steps) and each question it shows with its "
    "asked form and stored value; for the results, the results report's key (RESULT_REPORTS) "
    "and the campaign the assessment belongs to",
    why="the templates read only these; they are rendered with holes instead of the token "
    "and the CSRF token, filled per request (a page that would carry the visitor's own "
    "token anywhere else is never kept); pages with a flashed message or for a logged-in "
    "user are not kept (tests/test_cache.py)",
    max_bytes=2 * MB,
)
LANDING_PAGES = Declaration(
    "landing pages",
    16,  # ~6 KB each: one per language
    key="language",
    why="kept only for visitors with nothing personal (no login, no flashed message); "
    "the page carries no token and no CSRF field",
    max_bytes=MB // 4,
)
CAMPAIGN_BENCHMARKS = Declaration(
    "campaign medians",
    256,
    key="campaign id, and the id and creation time of its release in force",
    why="a release is frozen when it is made and the rounded medians a member sees are a "
    "function of it; a newer release is another key; an id SQLite gives again after a "
    "deletion comes with another creation time",
    max_bytes=MB // 4,
    entry_bytes=1024,  # the overall median and one per area
)


class BoundedCache:
    """A thread-safe mapping that forgets its least recently used entries, bounded in
    entries and in bytes: text weighs what Python stores for it, an object its
    `size_in_bytes`, anything else `entry_bytes`."""

    def __init__(self, size: int, max_bytes: int = 8 * MB, entry_bytes: int = 0):
        self.size = size
        self.max_bytes = max_bytes
        self.entry_bytes = entry_bytes
        self.bytes = 0
        self._entries: OrderedDict = OrderedDict()
        self._weights: dict = {}
        self._lock = threading.Lock()

    def weigh(self, key, value) -> int:
        if isinstance(value, str | bytes):
            weight = sys.getsizeof(value)  # a str with one “ takes 2 bytes a character
        else:  # an object that knows its size says so (e.g. compression.PageWithHoles)
            weight = getattr(value, "size_in_bytes", self.entry_bytes)
        # A key weighs what its parts take themselves (a text, a set's table, not what
        # the set holds): a repr would cost per answer of a journey's key on every put.
        parts = key if isinstance(key, tuple) else (key,)
        return weight + sum(sys.getsizeof(part) for part in parts)

    def get(self, key, default=None):
        with self._lock:
            value = self._entries.get(key, _ABSENT)
            if value is _ABSENT:
                return default
            self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        weight = self.weigh(key, value)
        if weight > self.max_bytes:
            return  # never worth pushing everything else out
        with self._lock:
            self.bytes += weight - self._weights.get(key, 0)
            self._entries[key] = value
            self._weights[key] = weight
            self._entries.move_to_end(key)
            while len(self._entries) > self.size or self.bytes > self.max_bytes:
                old, _ = self._entries.popitem(last=False)
                self.bytes -= self._weights.pop(old)


class AppCache:
    """The BoundedCache of one declaration for the current application instance.
    Use inside an application context."""

    def __init__(self, declaration: Declaration):
        self.declaration = declaration

    def _cache(self) -> BoundedCache:
        caches = current_app.extensions.setdefault("caches", {})
        cache = caches.get(self.declaration.name)
        if cache is None:
            declaration = self.declaration
            cache = caches.setdefault(
                declaration.name,
                BoundedCache(declaration.size, declaration.max_bytes, declaration.entry_bytes),
            )
        return cache

    def get(self, key, default=None):
        return self._cache().get(key, default)

    def put(self, key, value) -> None:
        self._cache().put(key, value)


VERIFIED_SESSIONS = Declaration(
    "verified session cookies",
    1024,
    key="the session cookie as sent, and the generation of the signing keys it was verified with",
    why="whether a cookie's signature holds, and what it holds, is a function of its "
    "bytes and the keys (a change of key starts a new generation); only a cookie whose "
    "signature holds is kept (one this app made: a forged one never becomes a key); its "
    "age is checked on every request; only sessions of text, numbers and booleans are "
    "kept, and each request gets its own copy, so nothing one request changes reaches "
    "another",
    max_bytes=MB // 4,
    entry_bytes=256,  # the cookie (~110 characters) is in the key; a token and a time here
)
SIGNED_CSRF_TOKENS = Declaration(
    "signed CSRF tokens",
    1024,
    key="the app's secret key and the raw CSRF token a visitor's session holds",
    why="the signed token is a function of the raw one and the app's key; tokens have no "
    "time limit (WTF_CSRF_TIME_LIMIT), so one signed form serves every page of a session; "
    "only a session holding the raw token can look it up",
    max_bytes=MB // 4,
)
question_widgets = AppCache(QUESTION_WIDGETS)
locked_results = AppCache(LOCKED_RESULTS)
result_reports = AppCache(RESULT_REPORTS)
result_pdfs = AppCache(RESULT_PDFS)
form_classes = AppCache(FORM_CLASSES)
idle_step_forms = AppCache(IDLE_STEP_FORMS)
journeys = AppCache(JOURNEYS)
pages_with_holes = AppCache(PAGES_WITH_HOLES)
landing_pages = AppCache(LANDING_PAGES)
campaign_benchmarks = AppCache(CAMPAIGN_BENCHMARKS)
verified_sessions = AppCache(VERIFIED_SESSIONS)
signed_csrf_tokens = AppCache(SIGNED_CSRF_TOKENS)


# --- Pure functions, per process ---------------------------------------------

MARKDOWN = Declaration(
    "questionnaire markdown",
    8192,
    key="the text",
    why="a pure function of the text (questionnaire text is fixed while the app runs)",
)
CONTENT_CATALOGS = Declaration(
    "questionnaire catalogs",
    16,
    key="translations directory, language",
    why="compiled catalogs are read once at start-up; a changed catalog needs a restart, "
    "as with every gettext catalog",
)
CONTENT_TEXTS = Declaration(
    "translated questionnaire texts",
    16384,
    key="translations directory, language, msgctxt, source text",
    why="a pure function of its key and of the catalog above",
)
SHARED_GZIP = Declaration(
    "compressed shared responses",
    64,
    key="the response bytes",
    why="a pure function of the bytes; only responses that are the same for every "
    "visitor (static files, the landing page) are passed in",
)
DUMMY_PASSWORD_HASH = Declaration(
    "dummy password hash",
    1,
    key="nothing",
    why="a constant: the hash checked for unknown e-mails, so both paths take as long",
)


def memoized(declaration: Declaration):
    """Decorate a pure function with the bounded memo its declaration describes."""
    return functools.lru_cache(maxsize=declaration.size)


APP_CACHES = (
    QUESTION_WIDGETS,
    LOCKED_RESULTS,
    RESULT_REPORTS,
    RESULT_PDFS,
    FORM_CLASSES,
    IDLE_STEP_FORMS,
    JOURNEYS,
    PAGES_WITH_HOLES,
    LANDING_PAGES,
    CAMPAIGN_BENCHMARKS,
    VERIFIED_SESSIONS,
    SIGNED_CSRF_TOKENS,
)
DECLARATIONS = (
    *APP_CACHES,
    MARKDOWN,
    CONTENT_CATALOGS,
    CONTENT_TEXTS,
    SHARED_GZIP,
    DUMMY_PASSWORD_HASH,
)
