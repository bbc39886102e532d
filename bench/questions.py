"""Per-question cost: the shipped questionnaire against a synthetic one five times larger.

Run by hand, from the project root:

    .venv/bin/python bench/questions.py                # 5 repetitions of 100 requests per page
    .venv/bin/python bench/questions.py --requests 50 --repeat 3    # quicker, noisier

What it does (1 to 2 minutes at the default):
1. Writes a temporary QUESTIONNAIRES_DIR: a copy of questionnaires/ plus
   `compromiso-migrante-x5`, built from compromiso-migrante v2 with every
   question five times: the legal block holds its questions and four renamed
   copies of them (`<id>_x2` ... `<id>_x5`, action ids renamed alike), and each
   dimension gets four renamed copies (`<dimension>_x2` ...) with the same
   weight. Conditions only name profile fields and the levels only name the
   original questions, so the file validates unchanged otherwise. The pages of
   the original dimensions hold exactly the same questions in both files
   (a page shows at most 10 questions), so the section page compared below is
   the same page in a questionnaire of 55 or 275 questions.
2. On one fresh SQLite database (bench/dashboard.py's prepared_database and
   create_bench_app), one app per questionnaire (QUESTIONNAIRE chooses the one
   new assessments use); with the test suite's Visitor each answers every step
   with the best answers twice: one assessment left unsubmitted, one submitted.
3. Times, in this process with the Flask test client, 1x and 5x in turns: the
   section page `gestion-1` (GET), saving it (POST, two answer sets in turns so
   every save writes: bench/http.py's save_values), the review page and the
   results page. Each twice: as for answers never seen (the app's caches keyed by
   a visitor's answers -- journeys, step pages, results -- emptied before each
   request; the caches all visitors share stay warm), which the targets judge,
   and as a repeat of the same request (every cache hit), for reference. Each
   repetition is --requests requests after --warmup ones; the median repetition
   is reported, in process CPU time (time.process_time, steady on a shared
   machine) and wall time.
4. Prints per page: CPU us/request for 1x and 5x, the ratio 5x/1x, and the CPU
   us per extra question per request: (t5 - t1) / (questions5 - questions1),
   questions counted in the whole questionnaire (220 more), since the pages
   compared show the same questions but the request works on every answer.
   The targets judge the section page and its save, which show the same
   questions in both files; the review and results pages show every question,
   so they grow with it by design: their figures are printed without a verdict.

The copies have no translations (their msgctxt names the synthetic questionnaire):
in ht and en they would fall back to Spanish. The pages are timed in Spanish, where
no catalog is read, so this does not change the cost measured.

Targets (issue 17): per-question cost <= 5 us per question per request; a
questionnaire 5x larger costs <= 2x on the section GET.
Everything stops by itself and the temporary folders are removed, also on error.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py is named like the standard library's `http`: keep bench/ off sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from werkzeug.datastructures import MultiDict  # noqa: E402

from app.cache import JOURNEYS  # noqa: E402
from app.cache import LOCKED_RESULTS  # noqa: E402
from app.cache import PAGES_WITH_HOLES  # noqa: E402
from app.cache import RESULT_PDFS  # noqa: E402
from app.cache import RESULT_REPORTS  # noqa: E402
from app.engine.loader import load_file  # noqa: E402
from app.engine.yaml_lines import Loader  # noqa: E402
from app.extensions import db  # noqa: E402
from bench.dashboard import create_bench_app  # noqa: E402
from bench.dashboard import prepared_database  # noqa: E402
from bench.http import save_values  # noqa: E402
from tests.support.content import EMPRESA  # noqa: E402
from tests.support.pages import csrf_token  # noqa: E402
from tests.support.visitor import Visitor  # noqa: E402
from tests.support.visitor import best  # noqa: E402

ORIGINAL = "compromiso-migrante"
SOURCE = ROOT / "questionnaires" / ORIGINAL / "v2.yaml"
SYNTHETIC = "compromiso-migrante-x5"
COPIES = 5
SECTION = "gestion-1"
VISITOR_CACHES = (JOURNEYS, PAGES_WITH_HOLES, LOCKED_RESULTS, RESULT_REPORTS, RESULT_PDFS)
US_PER_QUESTION_TARGET = 5.0
SECTION_RATIO_TARGET = 2.0


# --- The synthetic questionnaire ----------------------------------------------


def renamed(question: dict, number: int) -> dict:
    """A copy of a question under new ids: its own, its actions' and the rewording's."""
    suffix = f"_x{number}"
    twin = copy.deepcopy(question)
    twin["id"] += suffix
    for action in twin.get("actions", []):
        action["id"] += suffix
    rewording = twin.get("reworded")
    if rewording and "actions" in rewording:
        rewording["actions"] = {k + suffix: v for k, v in rewording["actions"].items()}
    return twin


def enlarged(source: Path, questionnaire_id: str, copies: int) -> str:
    """The YAML of `source` with every question `copies` times, under another id."""
    loader = Loader(source.read_text(encoding="utf-8"))  # the app's reading: `on`, `no` stay text
    try:
        # Plain dicts and lists (the loader's carry line numbers) for yaml.safe_dump.
        data = json.loads(json.dumps(loader.get_single_data()))
    finally:
        loader.dispose()
    data.update(id=questionnaire_id, version=1)
    data.pop("replaces", None)  # it names version 1 of the original
    numbers = range(2, copies + 1)
    legal = data["legal"]["questions"]
    data["legal"]["questions"] = legal + [renamed(q, n) for n in numbers for q in legal]
    copied_dimensions = []
    for number in numbers:
        for dimension in data["dimensions"]:
            twin = dict(dimension, id=f"{dimension['id']}_x{number}")
            twin["questions"] = [renamed(q, number) for q in dimension["questions"]]
            copied_dimensions.append(twin)
    data["dimensions"] += copied_dimensions
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def write_questionnaires(folder: Path) -> Path:
    """questionnaires/ copied into folder, plus the synthetic file; returns the directory."""
    directory = folder / "questionnaires"
    shutil.copytree(ROOT / "questionnaires", directory)
    path = directory / SYNTHETIC / "v1.yaml"
    path.parent.mkdir()
    path.write_text(enlarged(SOURCE, SYNTHETIC, COPIES), encoding="utf-8")
    return directory


# --- The apps and their assessments -------------------------------------------


@contextlib.contextmanager
def environment(**values):
    """Environment variables set for a block (create_app reads its settings there)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Subject:
    """One questionnaire's app, its size and its two assessments."""

    label: str
    app: object
    questions: int
    answered: str  # token: every step answered, not submitted
    submitted: str  # token: submitted
    client: object = None
    save_forms: list = None
    turn: int = 0


def prepare(label, url, directory, questionnaire_id) -> Subject:
    with environment(QUESTIONNAIRES_DIR=str(directory), QUESTIONNAIRE=questionnaire_id):
        app = create_bench_app(url)
    questionnaire = app.extensions["questionnaires"].get(questionnaire_id)
    tokens = []
    for submit in (False, True):
        visitor = Visitor(app.test_client())
        visitor.start(EMPRESA)
        visitor.answer_all(best)
        if submit:
            visitor.submit()
            assert visitor.url.endswith("/results"), visitor.url
        tokens.append(visitor.token)
    subject = Subject(label, app, len(questionnaire.questions), *tokens)
    subject.client = app.test_client()
    response = subject.client.get(section_path(subject))
    token = csrf_token(response.get_data(as_text=True))
    subject.save_forms = [
        MultiDict([("csrf_token", token), *pairs])
        for pairs in save_values(app, subject.answered, SECTION)
    ]
    return subject


def section_path(subject) -> str:
    return f"/es/a/{subject.answered}/s/{SECTION}"


# --- The requests timed -------------------------------------------------------


def get_section(subject):
    return subject.client.get(section_path(subject)), 200


def save_section(subject):
    subject.turn = (subject.turn + 1) % len(subject.save_forms)
    return subject.client.post(section_path(subject), data=subject.save_forms[subject.turn]), 302


def get_review(subject):
    return subject.client.get(f"/es/a/{subject.answered}/review"), 200


def get_results(subject):
    return subject.client.get(f"/es/a/{subject.submitted}/results"), 200


def forget_visitors(subject) -> None:
    """Empty the app's caches keyed by a visitor's answers: the next request computes
    and renders as for answers never seen. The caches every visitor shares (question
    widgets, form classes, translated texts) stay warm, as on a busy server."""
    caches = subject.app.extensions.get("caches", {})
    for declaration in VISITOR_CACHES:
        caches.pop(declaration.name, None)


PAGES = [  # (name, request, whether the page itself shows every question)
    (f"section GET {SECTION}", get_section, False),
    (f"section save POST {SECTION}", save_section, False),
    ("review GET", get_review, True),
    ("results GET", get_results, True),
]


def timed(subject, request, count, fresh) -> tuple[float, float]:
    """(CPU us, wall us) per request over `count` requests; `fresh`: caches of
    visitors' answers emptied before each one."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        if fresh:
            forget_visitors(subject)
        response, wanted = request(subject)
        response.get_data()
        response.close()
        if response.status_code != wanted:
            raise SystemExit(f"{request.__name__} ({subject.label}): HTTP {response.status_code}")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1e6 / count, wall * 1e6 / count


def measure(subjects, request, fresh, args) -> dict:
    """Median (CPU us, wall us) per request for each subject, repetitions in turns."""
    for subject in subjects:
        timed(subject, request, args.warmup, fresh)
    samples = {subject.label: [] for subject in subjects}
    for _ in range(args.repeat):
        for subject in subjects:
            samples[subject.label].append(timed(subject, request, args.requests, fresh))
    return {
        label: (statistics.median(c for c, _ in runs), statistics.median(w for _, w in runs))
        for label, runs in samples.items()
    }


# --- Report -------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(subjects, args) -> int:
    """Time every page for both questionnaires and print the table; 1 if a target is missed."""
    single, large = subjects
    extra = large.questions - single.questions
    print(
        f"questions: {single.questions} ({ORIGINAL}), {large.questions} ({SYNTHETIC}); "
        f"{args.repeat} x {args.requests} requests per page after {args.warmup} warm-ups "
        "(Flask test client, SQLite, median repetition)"
    )
    header = (
        f"{'page':<37} {'CPU us 1x':>10} {'CPU us 5x':>10} {'ratio':>6} "
        f"{'us/question':>11} {'wall us 1x':>10} {'wall us 5x':>10}  verdict"
    )
    print(header)
    print("-" * len(header))
    failed = False
    rows = [(page, fresh) for page in PAGES for fresh in (True, False)]
    for (name, request, shows_every_question), fresh in rows:
        medians = measure(subjects, request, fresh, args)
        (cpu1, wall1), (cpu5, wall5) = medians[single.label], medians[large.label]
        ratio = cpu5 / cpu1
        per_question = (cpu5 - cpu1) / extra
        name += "" if fresh else " (repeat)"
        if not fresh:
            result = "(every cache hit: no target)"
        elif shows_every_question:
            result = "(shows every question: no target)"
        else:
            ok = per_question <= US_PER_QUESTION_TARGET
            if request is get_section:
                ok = ok and ratio <= SECTION_RATIO_TARGET
            failed = failed or not ok
            result = verdict(ok)
        print(
            f"{name:<37} {cpu1:10.0f} {cpu5:10.0f} {ratio:6.2f} {per_question:11.2f} "
            f"{wall1:10.0f} {wall5:10.0f}  {result}"
        )
    print(f"us/question: (CPU us 5x - CPU us 1x) / {extra} more questions in the questionnaire")
    print(
        f"targets: <= {US_PER_QUESTION_TARGET:.0f} us per question per request on the pages "
        f"that show the same questions; section GET 5x/1x <= {SECTION_RATIO_TARGET:.0f}"
    )
    print(f"overall: {verdict(not failed)}")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per repetition")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions (the median is shown)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first")
    args = parser.parse_args(argv)
    # A SIGTERM must still run the clean-up (the temporary folders).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    folder = Path(tempfile.mkdtemp(prefix="bench-questions-"))
    try:
        directory = write_questionnaires(folder)
        load_file(directory / SYNTHETIC / "v1.yaml")  # a clear error if the copy is invalid
        with prepared_database(None) as url:
            subjects = []
            try:
                subjects.append(prepare("1x", url, directory, ORIGINAL))
                subjects.append(prepare(f"{COPIES}x", url, directory, SYNTHETIC))
                return report(subjects, args)
            finally:
                for subject in subjects:
                    with subject.app.app_context():
                        db.session.remove()
                        db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
