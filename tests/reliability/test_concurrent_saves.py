"""Concurrent saves through a real WSGI server (docs/SECURITY.md 2.5 and 2.7 items 1-2).

gunicorn serves the app as `make run` does (sync workers, 4 of them here) on a
migrated SQLite file in WAL mode, and again on PostgreSQL when TEST_DATABASE_URL
is set. 50 clients, each a thread with its own cookies and its own assessment,
load a step and save it, again and again with no pause, for RELIABILITY_SECONDS
(5 s by default; the full run is `RELIABILITY_SECONDS=30`). With no pause the
server is saturated, so the latencies printed are mostly queueing. Figures are
printed: run with `-s`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter

import pytest

from tests.reliability.support import PROFILE_FIXED
from tests.reliability.support import STEPS
from tests.reliability.support import Browser
from tests.reliability.support import gunicorn
from tests.reliability.support import hash_token
from tests.reliability.support import percentile
from tests.reliability.support import read_answers
from tests.reliability.support import reliability_seconds
from tests.reliability.support import start_assessment
from tests.reliability.support import stored
from tests.support.content import EMPRESA
from tests.support.pages import Form
from tests.support.pages import step_form

pytestmark = pytest.mark.reliability

CLIENTS = 50
SPECIAL = ("dont_know", "na")
SPAN = 20_000  # p_dotacion_total = 100 + client * SPAN + iteration: the client can be read back


@pytest.fixture(scope="module")
def server(module_database_url, tmp_path_factory):
    log = tmp_path_factory.mktemp("gunicorn") / "server.log"
    # as `make run` serves it: sync workers (4 here, to put more writers on the file)
    with gunicorn(module_database_url, log, workers=4) as running:
        running.database_url = module_database_url
        yield running


@pytest.fixture
def no_server_traceback(server):
    """The server log written during the test has no traceback."""
    offset = server.log_path.stat().st_size
    yield
    with open(server.log_path, "rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", "replace")
    assert "Traceback" not in text, text[-6000:]


def pick(client: int, iteration: int, question: str, options: list) -> str:
    digest = hashlib.sha256(f"{client}/{iteration}/{question}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def choose(client: int, iteration: int, form: Form) -> dict:
    """New answers for every question of the page, encoding client and iteration."""
    answers = {}
    for question in form.questions:
        kind = form.kinds.get(question)
        if question == "p_dotacion_total":
            answers[question] = str(100 + client * SPAN + iteration % SPAN)
        elif question == "p_dotacion_extranjera":
            answers[question] = str(client + 1)
        elif question in PROFILE_FIXED:
            answers[question] = EMPRESA[question]
        elif kind == "radio":
            answers[question] = pick(client, iteration, question, form.options[question])
        elif kind == "checkbox":
            # Not "I don't know"/"Does not apply" here: that is a 500 of its own
            # (test_dont_know_on_a_multiple_choice_question_is_saved), not a concurrency issue.
            # Nor "no foreign staff" among nationalities: every client has foreign staff.
            options = [o for o in form.options[question] if o not in (*SPECIAL, "ninguna")]
            answers[question] = [pick(client, iteration, question, options)]
        else:
            raise AssertionError(f"unexpected question {question} ({kind}) on the page")
    return answers


def expected_after(form: Form, answers: dict) -> dict:
    return {q: stored(form.kinds[q], v) for q, v in answers.items()}


class Client(threading.Thread):
    """One organisation saving its own assessment, step after step, until the deadline."""

    def __init__(self, number: int, port: int, start_gate: threading.Barrier, seconds: float):
        super().__init__(name=f"client-{number}", daemon=True)
        self.number = number
        self.browser = Browser(port)
        self.gate = start_gate
        self.seconds = seconds
        self.token = None
        self.expected: dict = {}
        self.saves = 0
        self.requests = 0
        self.statuses: Counter = Counter()
        self.save_seconds: list[float] = []
        self.problems: list[str] = []

    def run(self):
        try:
            profile = dict(EMPRESA, p_dotacion_total=str(100 + self.number * SPAN))
            profile["p_dotacion_extranjera"] = str(self.number + 1)
            self.token, response = start_assessment(self.browser, profile)
            self.requests += 2
            self.expected = {q: int(v) if q.startswith("p_dot") else v for q, v in profile.items()}
            self.gate.wait(timeout=120)
            deadline = time.monotonic() + self.seconds
            iteration = 0
            while time.monotonic() < deadline:
                iteration += 1
                self.save_step(STEPS[(self.number + iteration) % len(STEPS)], iteration)
        except Exception as error:  # reported by the test, with the client's number
            self.problems.append(f"{error.__class__.__name__}: {error}")

    def save_step(self, step: str, iteration: int):
        url = f"/es/a/{self.token}/s/{step}"
        page = self.browser.get(url)
        self.requests += 1
        self.statuses[("GET", page.status)] += 1
        if page.status != 200:
            self.problems.append(f"GET {step}: {page.status}")
            return
        form = step_form(page.body)
        answers = choose(self.number, iteration, form)
        response = self.browser.post(url, form.filled(answers))
        self.requests += 1
        self.statuses[("POST", response.status)] += 1
        if response.status == 302:
            self.saves += 1
            self.save_seconds.append(response.seconds)
            self.expected.update(expected_after(form, answers))
        else:
            self.problems.append(f"POST {step}: {response.status} {response.body[:300]!r}")


def test_fifty_clients_save_concurrently_without_loss_or_mix_up(server, no_server_traceback):
    seconds = reliability_seconds()
    gate = threading.Barrier(CLIENTS)
    clients = [Client(n, server.port, gate, seconds) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=seconds + 300)
    assert not any(c.is_alive() for c in clients), "clients did not stop"

    statuses = sum((c.statuses for c in clients), Counter())
    saves = sum(c.saves for c in clients)
    requests = sum(c.requests for c in clients)
    latencies = [s for c in clients for s in c.save_seconds]
    server_errors = {k: n for k, n in statuses.items() if k[1] >= 500}
    milliseconds = {
        name: f"{percentile(latencies, share) * 1000:.0f} ms"
        for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
    }
    print(
        f"\n[concurrent saves, {server.database_url.split(':')[0]}] clients={CLIENTS} "
        f"seconds={seconds:g} requests={requests} saves={saves} "
        f"saves/s={saves / seconds:.1f} save latency {milliseconds} statuses={dict(statuses)}"
    )
    problems = [f"client {c.number}: {p}" for c in clients for p in c.problems]
    assert not server_errors, server_errors
    assert not problems, problems[:20]
    assert saves >= CLIENTS, "too few saves to say anything"

    database = read_answers(server.database_url)["answers"]
    lost, mixed = [], []
    for client in clients:
        rows = database.get(hash_token(client.token))
        assert rows is not None, f"client {client.number}: assessment missing"
        for question, value in client.expected.items():
            if rows.get(question) != value:
                lost.append((client.number, question, value, rows.get(question)))
        for question in set(rows) - set(client.expected):
            mixed.append((client.number, question, rows[question]))
        total = rows.get("p_dotacion_total", 0)
        if (total - 100) // SPAN != client.number or rows.get(
            "p_dotacion_extranjera"
        ) != client.number + 1:
            mixed.append((client.number, "p_dotacion_*", total))
    print(f"[concurrent saves] lost writes={len(lost)} mixed-up answers={len(mixed)}")
    assert not lost, lost[:20]
    assert not mixed, mixed[:20]


def test_double_submitted_step_is_idempotent(server, no_server_traceback):
    browser = Browser(server.port)
    token, _ = start_assessment(browser, EMPRESA)
    for round_number, step in enumerate(STEPS[1:] * 2):
        url = f"/es/a/{token}/s/{step}"
        page = browser.get(url)
        assert page.status == 200, (step, page.status)
        form = step_form(page.body)
        answers = choose(7, 1000 + round_number, form)
        body = form.filled(answers)
        gate = threading.Barrier(2)
        responses = []

        def submit(body=body, url=url, gate=gate, responses=responses):
            gate.wait(timeout=30)
            responses.append(browser.post(url, body))

        twins = [threading.Thread(target=submit) for _ in range(2)]
        for twin in twins:
            twin.start()
        for twin in twins:
            twin.join(timeout=120)
        assert [r.status for r in responses] == [302, 302], [
            (r.status, r.body[:300]) for r in responses
        ]
        assert responses[0].location == responses[1].location
        state = read_answers(server.database_url)
        rows = state["answers"][hash_token(token)]
        for question, value in expected_after(form, answers).items():
            assert rows.get(question) == value, (step, question, rows.get(question), value)
        assert state["saved"][hash_token(token)][step] == 1


def test_two_tabs_do_not_erase_each_others_answers(server, no_server_traceback):
    browser = Browser(server.port)
    token, _ = start_assessment(browser, EMPRESA)

    def load(step):
        page = browser.get(f"/es/a/{token}/s/{step}")
        assert page.status == 200, (step, page.status)
        return step_form(page.body)

    def post(step, form, answers):
        response = browser.post(f"/es/a/{token}/s/{step}", form.filled(answers))
        assert response.status == 302, (step, response.status, response.body[:500])

    def post_together(step, first, second):
        gate = threading.Barrier(2)

        def go(form, answers):
            gate.wait(timeout=30)
            post(step, form, answers)

        failures = []

        def run(form, answers):
            try:
                go(form, answers)
            except AssertionError as error:
                failures.append(error)

        tabs = [threading.Thread(target=run, args=pair) for pair in (first, second)]
        for tab in tabs:
            tab.start()
        for tab in tabs:
            tab.join(timeout=120)
        assert not failures, failures

    # Profile, one after the other: tab B still shows the old staff number and sends it.
    tab_a, tab_b = load("profile"), load("profile")
    assert tab_b.value("p_dotacion_total") == "80"
    post("profile", tab_a, {"p_dotacion_total": "4321"})
    post("profile", tab_b, {"p_sector": "construccion"})
    # Radios, both tabs at the same moment.
    tab_a, tab_b = load("legal-1"), load("legal-1")
    post_together(
        "legal-1",
        (tab_a, {"legal_cotizaciones": "si"}),
        (tab_b, {"legal_protocolo_karin": "parcial"}),
    )
    # Check boxes against a radio, the later tab first.
    tab_a, tab_b = load("gestion-2"), load("gestion-2")
    post("gestion-2", tab_b, {"g_recursos": "si"})
    post("gestion-2", tab_a, {"g_barreras_idioma": ["interprete", "senaletica"]})
    # And both again at once on a page where each already saved something.
    tab_a, tab_b = load("gestion-2"), load("gestion-2")
    post_together(
        "gestion-2",
        (tab_a, {"g_canal_denuncias": "3"}),
        (tab_b, {"g_plan_trabajo": "2"}),
    )

    rows = read_answers(server.database_url)["answers"][hash_token(token)]
    assert rows["p_dotacion_total"] == 4321
    assert rows["p_sector"] == "construccion"
    assert rows["legal_cotizaciones"] == "si"
    assert rows["legal_protocolo_karin"] == "parcial"
    assert rows["g_recursos"] == "si"
    assert rows["g_barreras_idioma"] == ["interprete", "senaletica"]
    assert rows["g_canal_denuncias"] == "3"
    assert rows["g_plan_trabajo"] == "2"


@pytest.mark.parametrize(
    ("step", "question", "special"),
    [("gestion-2", "g_barreras_idioma", "dont_know"), ("gestion-2", "g_barreras_idioma", "na")],
)
def test_dont_know_on_a_multiple_choice_question_is_saved(server, step, question, special):
    browser = Browser(server.port)
    token, _ = start_assessment(browser, EMPRESA)
    url = f"/es/a/{token}/s/{step}"
    form = step_form(browser.get(url).body)
    assert special in form.options[question]  # the page offers it
    response = browser.post(url, form.filled({question: [special]}))
    assert response.status == 302, (response.status, response.body[:300])
    rows = read_answers(server.database_url)["answers"][hash_token(token)]
    assert rows[question] in (special, [special])
    shown = step_form(browser.get(url).body)  # and the page shows it ticked again
    assert shown.value(question) == [special]
