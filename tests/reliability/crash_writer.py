"""The process test_crash_durability.py kills: a web server and its users in one.

    python tests/reliability/crash_writer.py DATABASE_FILE

It creates the app once, says `ZYGOTE <pid>`, then for each `run N` line on stdin
forks a writer (as gunicorn forks workers from a preloaded app): the writer
serves the app on a free 127.0.0.1 port (werkzeug, threaded) and runs four
users against it, each starting assessments and saving steps. Every line is
one write(2) to stdout, so a line is either whole or absent when the writer
is killed:

    READY N <pid>                     the writer serves
    TRY <user> <token> <step> <json>  about to post these answers
    ACK <user> <token> <step> <json>  the 302 came back (the save is committed)
    FAIL <user> <status> <detail>     anything else
    EXIT <pid> <status>               (from the zygote) the writer is gone

`quit` ends the zygote. A writer also stops by itself after 60 seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.reliability.support import SECRET  # noqa: E402
from tests.reliability.support import Browser  # noqa: E402
from tests.reliability.support import start_assessment  # noqa: E402
from tests.reliability.support import stored  # noqa: E402
from tests.support.content import EMPRESA  # noqa: E402
from tests.support.pages import Form  # noqa: E402
from tests.support.pages import step_form  # noqa: E402

USERS = 4
WRITER_LIMIT = 60.0
STEPS = ("legal-1", "legal-2", "composicion_interna")
SPECIAL = ("dont_know", "na")


def emit(line: str) -> None:
    os.write(1, (line + "\n").encode("utf-8"))


def answers_for(seed: str, form: Form) -> dict:
    answers = {}
    for question in form.questions:
        options = [o for o in form.options[question] if o not in SPECIAL]
        digest = hashlib.sha256(f"{seed}/{question}".encode()).digest()
        answers[question] = options[int.from_bytes(digest[:4], "big") % len(options)]
    return answers


def user(port: int, run: int, number: int) -> None:
    """Start an assessment, save three steps, start the next one... until killed."""
    sequence = 0
    while True:
        sequence += 1
        browser = Browser(port, timeout=30)
        total = 100 + run * 40_000 + number * 10_000 + sequence % 10_000  # unique per save
        profile = dict(EMPRESA, p_dotacion_total=str(total))
        emit(f"TRY {number} - profile {json.dumps({'p_dotacion_total': total})}")
        try:
            token, _ = start_assessment(browser, profile)
        except AssertionError as error:
            emit(f"FAIL {number} new {str(error)[:200]!r}")
            continue
        expected = {q: int(v) if q.startswith("p_dot") else v for q, v in profile.items()}
        emit(f"ACK {number} {token} profile {json.dumps(expected, sort_keys=True)}")
        for step in STEPS:
            url = f"/es/a/{token}/s/{step}"
            page = browser.get(url)
            if page.status != 200:
                emit(f"FAIL {number} {page.status} GET {step}")
                continue
            form = step_form(page.body)
            answers = answers_for(f"{run}/{number}/{sequence}/{step}", form)
            values = {q: stored(form.kinds[q], v) for q, v in answers.items()}
            payload = json.dumps(values, sort_keys=True)
            emit(f"TRY {number} {token} {step} {payload}")
            response = browser.post(url, form.filled(answers))
            if response.status == 302:
                emit(f"ACK {number} {token} {step} {payload}")
            else:
                emit(f"FAIL {number} {response.status} POST {step}")


def writer(app, run: int) -> None:
    from werkzeug.serving import make_server

    from app.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)  # never share the zygote's connections (there are none)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emit(f"READY {run} {os.getpid()}")
    for number in range(USERS):
        threading.Thread(target=user, args=(server.server_port, run, number), daemon=True).start()
    time.sleep(WRITER_LIMIT)  # the test kills us long before this


def warm_up(app) -> None:
    """Render every page once before forking (templates, catalogs), as a preloaded
    gunicorn master would have; then close the connections so no writer shares one."""
    from app.extensions import db
    from tests.support.visitor import Visitor

    visitor = Visitor(app.test_client())
    visitor.start()
    for step in STEPS:
        visitor.get(f"/es/a/{visitor.token}/s/{step}")
        visitor.submit({}, follow=False)
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    from app import create_app

    database = Path(sys.argv[1])
    app = create_app(
        {
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            # Its users start assessments without pause from one address (tests/test_costs.py).
            "NEW_ASSESSMENT_LIMIT_PER_ADDRESS": "100000 per minute",
        }
    )
    warm_up(app)
    emit(f"ZYGOTE {os.getpid()}")
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        if command[0] == "run":
            sys.stdout.flush()
            child = os.fork()
            if child == 0:
                try:
                    signal.signal(signal.SIGINT, signal.SIG_DFL)
                    writer(app, int(command[1]))
                finally:
                    os._exit(0)
            _, status = os.waitpid(child, 0)
            emit(f"EXIT {child} {status}")


if __name__ == "__main__":
    main()
