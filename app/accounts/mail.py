"""E-mail leaves the request: a bounded queue per app and one sender thread per process.

A request only puts a letter in the queue, so a page answers as fast whether or not
it sends one (docs/SECURITY.md T9), and a slow or unreachable SMTP server never holds
a worker. The thread starts with the first letter of each process: gunicorn imports
the app in its master (`preload_app`) and forks the workers, and a thread started
before the fork would not exist in them.

Without SMTP_HOST, or when sending fails, each letter's `fallback` runs instead (in
an app context, on the sender thread): a reset link waits for programme staff, a
confirmation link is logged for the operator. Failures are logged by exception
class only: never an address, a link or a password.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask

log = logging.getLogger(__name__)
QUEUE_SIZE = 200  # letters waiting, at most; registration and reset are limited per address
SMTP_TIMEOUT = 10  # seconds per connection
FLUSH_AT_EXIT = 10  # seconds a stopping process waits for letters still queued


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    body: str
    fallback: Callable[[], None] | None = None  # when not sent; runs in an app context


class Outbox:
    def __init__(self, app: Flask, size: int = QUEUE_SIZE):
        self.app = app
        self.size = size
        self._lock = threading.Lock()
        self._queue: queue.Queue[Letter] = queue.Queue(size)
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def send(self, letter: Letter) -> None:
        """Queue a letter; never blocks, never raises."""
        letters = self._started()
        try:
            letters.put_nowait(letter)
        except queue.Full:
            log.error("The e-mail queue is full (%s letters): one letter is not sent", self.size)
            self._fall_back(letter)

    def wait_idle(self, timeout: float) -> bool:
        """True once every queued letter is sent or handed to its fallback."""
        letters = self._queue
        with letters.all_tasks_done:
            return letters.all_tasks_done.wait_for(
                lambda: letters.unfinished_tasks == 0, timeout=timeout
            )

    def _started(self) -> queue.Queue[Letter]:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: the parent's queue is not ours
                self._queue = queue.Queue(self.size)
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, args=(self._queue,), name="outbox", daemon=True
                )
                self._thread.start()
                atexit.register(self.wait_idle, FLUSH_AT_EXIT)
            return self._queue

    def _run(self, letters: queue.Queue[Letter]) -> None:
        while True:
            letter = letters.get()
            try:
                if self.app.config.get("SMTP_HOST"):
                    self._deliver(letter)
                else:
                    self._fall_back(letter)
            except (OSError, smtplib.SMTPException) as error:
                log.error("Could not send an e-mail: %s", error.__class__.__name__)
                self._fall_back(letter)
            except Exception as error:  # the thread must live on; say what, not whom
                log.error("E-mail sender failed: %s", error.__class__.__name__)
            finally:
                letters.task_done()

    def _deliver(self, letter: Letter) -> None:
        config = self.app.config
        message = EmailMessage()
        message["Subject"] = letter.subject
        message["From"] = config["MAIL_FROM"]
        message["To"] = letter.to
        message.set_content(letter.body)
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT) as smtp:
            smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            smtp.send_message(message)

    def _fall_back(self, letter: Letter) -> None:
        if letter.fallback is None:
            return
        try:
            with self.app.app_context():
                letter.fallback()
        except Exception as error:
            log.error("E-mail fallback failed: %s", error.__class__.__name__)


def init_app(app: Flask) -> None:
    app.extensions["outbox"] = Outbox(app)


def outbox() -> Outbox:
    from flask import current_app

    return current_app.extensions["outbox"]
