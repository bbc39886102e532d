"""Time loading/validating every questionnaire and scoring 10,000 random answer sets.

Run by hand: .venv/bin/python bench/engine.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/http.py is named like the standard library's `http`: keep bench/ off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from app.engine import load_directory  # noqa: E402
from app.engine import score  # noqa: E402
from app.engine.model import CHOICE_TYPES  # noqa: E402


def random_answer(question, rng):
    if question.type in CHOICE_TYPES:
        return rng.choice(question.options).value
    if question.type == "multiple":
        plain = [o.value for o in question.options if not o.exclusive]
        return rng.sample(plain, rng.randint(0, len(plain)))
    if question.type == "number":
        return rng.randint(int(question.min or 0), int(question.max or 1000))
    return "texto"


def main(count: int = 10_000) -> None:
    rng = random.Random(1)
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        registry = load_directory(ROOT / "questionnaires")
        runs.append(time.perf_counter() - started)
    median_ms = statistics.median(runs) * 1000
    print(f"load + validate {len(registry)} questionnaire(s): median {median_ms:.1f} ms")
    for questionnaire in registry:
        cases = []
        for _ in range(count):
            profile = {f.id: random_answer(f, rng) for f in questionnaire.profile}
            answers = {
                q.id: random_answer(q, rng) for q in questionnaire.questions if rng.random() < 0.9
            }
            cases.append((profile, answers))
        started = time.perf_counter()
        for profile, answers in cases:
            score(questionnaire, profile, answers)
        elapsed = time.perf_counter() - started
        name = f"{questionnaire.id} v{questionnaire.version}"
        print(
            f"score {name} ({len(questionnaire.questions)} questions): {count} answer sets "
            f"in {elapsed:.2f} s = {elapsed / count * 1e6:.0f} µs each"
        )


if __name__ == "__main__":
    main()
