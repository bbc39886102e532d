"""Crash durability (docs/SECURITY.md 2.7 item 4): a process saving answers over HTTP
is killed with SIGKILL at random moments, 20 times, on the same SQLite file.

After every kill: `PRAGMA integrity_check` is `ok`, every save whose 302 had
come back is in the file, and each save still in flight is all there or not at
all (never half a step). See crash_writer.py for the process being killed.
"""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.reliability.support import ROOT
from tests.reliability.support import hash_token

pytestmark = pytest.mark.reliability

KILLS = 20
WRITER = Path(__file__).with_name("crash_writer.py")


class Zygote:
    """crash_writer.py, with its output lines in a queue."""

    def __init__(self, database: Path, log: Path):
        environment = os.environ.copy()
        environment.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.log = open(log, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(WRITER), str(database)],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,
        )
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.process.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self.lines.put(None)

    def send(self, command: str):
        self.process.stdin.write((command + "\n").encode())
        self.process.stdin.flush()

    def wait_for(self, prefix: str, seen: list, limit: float = 60.0) -> str:
        """Collect lines into `seen` until one starts with prefix."""
        deadline = time.monotonic() + limit
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} line within {limit} s") from None
            if line is None:
                raise AssertionError(f"crash_writer.py ended (code {self.process.poll()})")
            if line.startswith(prefix):
                return line
            seen.append(line)

    def stop(self):
        try:
            if self.process.poll() is None:
                try:
                    self.send("quit")
                except OSError:
                    pass
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(10)
        finally:
            self.process.stdin.close()
            self.reader.join(10)
            self.process.stdout.close()
            self.log.close()


class Ledger:
    """What the killed writers said: acknowledged saves and saves in flight."""

    def __init__(self):
        self.acknowledged: dict = {}  # (token, step) -> {question: value}
        self.in_flight: dict = {}  # (user, run) -> (token, step, values) not yet acknowledged
        self.acks = 0
        self.failures: list[str] = []

    def read(self, run: int, lines: list[str]):
        for line in lines:
            kind, rest = line.split(" ", 1)
            if kind == "FAIL":
                self.failures.append(line)
                continue
            user, token, step, payload = rest.split(" ", 3)
            values = json.loads(payload)
            if kind == "TRY":
                self.in_flight[(user, run)] = (token, step, values)
            elif kind == "ACK":
                self.acks += 1
                self.acknowledged[(token, step)] = values
                self.in_flight.pop((user, run), None)


def database_state(path: Path) -> tuple[str, dict, set]:
    connection = sqlite3.connect(path)  # a fresh connection: it recovers the WAL
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        problems = connection.execute("PRAGMA foreign_key_check").fetchall()
        assert not problems, problems
        answers: dict = {}
        for token_hash, question, value in connection.execute(
            "SELECT a.token_hash, r.question_id, r.value FROM answers r "
            "JOIN assessments a ON a.id = r.assessment_id"
        ):
            # NUMERIC affinity: a JSON number comes back as a number
            answers.setdefault(token_hash, {})[question] = (
                json.loads(value) if isinstance(value, str) else value
            )
        saved = set(
            connection.execute(
                "SELECT a.token_hash, s.section_id FROM saved_sections s "
                "JOIN assessments a ON a.id = s.assessment_id"
            )
        )
    finally:
        connection.close()
    return integrity, answers, saved


def test_acknowledged_saves_survive_sigkill(sqlite_template, tmp_path):
    database = tmp_path / "crash.sqlite"
    shutil.copyfile(sqlite_template, database)
    seed = int(os.environ.get("RELIABILITY_SEED", random.SystemRandom().randrange(10**6)))
    chance = random.Random(seed)
    ledger = Ledger()
    in_flight_committed = in_flight_absent = kills_mid_save = 0
    zygote = Zygote(database, tmp_path / "writer.log")
    started = time.monotonic()
    try:
        zygote.wait_for("ZYGOTE", [])
        for run in range(KILLS):
            lines: list[str] = []
            zygote.send(f"run {run}")
            pid = int(zygote.wait_for(f"READY {run} ", lines).split()[2])
            time.sleep(chance.uniform(0.05, 0.8))
            os.kill(pid, signal.SIGKILL)  # the writer this test asked for, by its id
            exit_line = zygote.wait_for(f"EXIT {pid} ", lines)
            assert os.WIFSIGNALED(int(exit_line.split()[2])), exit_line
            ledger.read(run, lines)
            pending = [v for (_, r), v in ledger.in_flight.items() if r == run]
            kills_mid_save += bool(pending)

            integrity, answers, saved = database_state(database)
            assert integrity == "ok", (run, integrity)
            lost = []
            for (token, step), values in ledger.acknowledged.items():
                rows = answers.get(hash_token(token), {})
                lost += [(token[:8], step, q) for q, v in values.items() if rows.get(q) != v]
                if step != "profile" and (hash_token(token), step) not in saved:
                    lost.append((token[:8], step, "saved_sections"))
            assert not lost, (run, lost[:10])
            for token, step, values in pending:
                if token == "-":
                    continue  # a new assessment whose link never came back: nobody has it
                rows = answers.get(hash_token(token), {})
                present = [q for q, v in values.items() if rows.get(q) == v]
                marked = (hash_token(token), step) in saved
                if present or marked:
                    assert len(present) == len(values) and marked, ("half a step", run, step)
                    in_flight_committed += 1
                else:
                    assert not any(q in rows for q in values), ("foreign values", run, step)
                    in_flight_absent += 1
    finally:
        zygote.stop()
    print(
        f"\n[crash durability] seed={seed} SIGKILLs={KILLS} kills with a save in flight="
        f"{kills_mid_save} acknowledged saves={ledger.acks} lost=0 "
        f"in-flight saves found committed={in_flight_committed} not committed={in_flight_absent} "
        f"integrity_check=ok x{KILLS} seconds={time.monotonic() - started:.1f}"
    )
    assert not ledger.failures, ledger.failures[:10]
    assert ledger.acks >= KILLS, "the writers hardly saved anything before being killed"
