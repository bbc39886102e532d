"""A database server that does not answer fails the request, within seconds
(docs/SECURITY.md 2.7 item 18).

A stopped PostgreSQL refuses connections at once, but a frozen one (overloaded, paused,
a network that drops packets) accepts them and never answers: without timeouts every
worker would wait for it forever. So:

- new connections give up after DATABASE_CONNECT_TIMEOUT seconds (libpq's
  `connect_timeout`);
- the server cancels a statement after DATABASE_STATEMENT_TIMEOUT_MS
  (`statement_timeout`);
- a frozen server cancels nothing, so a watchdog thread cuts the socket of a statement,
  ping, commit or rollback still waiting a second after that (or a ping after one
  second): the driver raises OperationalError, the pool drops the connection and the
  page answers 503 (app/pages.py, app/assess/views.py);
- a connection that sat in the pool for PING_AFTER_IDLE_SECONDS or more is pinged
  before use and replaced if the server no longer knows it (a restart, a failover):
  the first request after a restart does not fail. One used within that time is not
  pinged: on a busy worker the ping was one more round trip on every request.

The embedded SQLite file needs none of this; it keeps its busy timeout.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from sqlalchemy import event
from sqlalchemy import exc
from sqlalchemy.engine import Engine
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

PING_AFTER_IDLE_SECONDS = 1.0


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres"))


def engine_options(config) -> dict:
    """SQLALCHEMY_ENGINE_OPTIONS for the configured database."""
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:"):
        return {"pool_pre_ping": False}
    if not is_postgres(url):
        return {"pool_pre_ping": True}
    options = make_url(url).query.get("options") or ""
    if isinstance(options, tuple):
        options = " ".join(options)
    # connect_args win over the URL's own `options` (e.g. a search_path): keep both.
    timeout = int(config["DATABASE_STATEMENT_TIMEOUT_MS"])
    options = f"{options} -c statement_timeout={timeout}".strip()
    return {
        "pool_pre_ping": False,  # ping_after_idle, installed by watch()
        "connect_args": {
            "connect_timeout": max(2, int(config["DATABASE_CONNECT_TIMEOUT"])),
            "options": options,
        },
    }


class Watchdog:
    """Cuts the socket of a database call that outlived its deadline."""

    TICK = 0.1

    def __init__(self):
        self._waiting: dict[int, tuple[float, int, float]] = {}  # thread -> deadline, fd, s
        self._lock = threading.Lock()
        self._pid = None

    def arm(self, dbapi_connection, seconds: float) -> None:
        try:
            fd = dbapi_connection.pgconn.socket
        except Exception:  # noqa: BLE001 (a closed connection fails on its own, at once)
            return
        if self._pid != os.getpid():  # first use, or a forked worker (gunicorn --preload)
            with self._lock:
                if self._pid != os.getpid():
                    self._waiting.clear()
                    self._pid = os.getpid()
                    threading.Thread(target=self._run, name="db-watchdog", daemon=True).start()
        with self._lock:
            self._waiting[threading.get_ident()] = (time.monotonic() + seconds, fd, seconds)

    def disarm(self) -> None:
        with self._lock:
            self._waiting.pop(threading.get_ident(), None)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            with self._lock:  # held while cutting: a disarmed socket is never touched
                for thread, (deadline, fd, seconds) in list(self._waiting.items()):
                    if now >= deadline:
                        del self._waiting[thread]
                        self._cut(fd, seconds)

    @staticmethod
    def _cut(fd: int, seconds: float) -> None:
        try:
            with socket.socket(fileno=os.dup(fd)) as copy:
                copy.shutdown(socket.SHUT_RDWR)
        except OSError as error:
            log.warning("Database watchdog could not cut a connection: %s", error)
            return
        log.error("Database server did not answer within %.1f s: connection cut", seconds)


def watch(engine: Engine, config) -> None:
    """Arm the watchdog around every statement, ping, commit and rollback of a
    PostgreSQL engine."""
    if not is_postgres(str(engine.url)):
        return
    watchdog = Watchdog()
    statement_seconds = config["DATABASE_STATEMENT_TIMEOUT_MS"] / 1000 + 1
    short_seconds = min(1.0, float(config["DATABASE_CONNECT_TIMEOUT"]))

    @event.listens_for(engine, "before_cursor_execute")
    def arm(connection, _cursor, _statement, _parameters, _context, _executemany):
        watchdog.arm(connection.connection.dbapi_connection, statement_seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def disarm(*_args):
        watchdog.disarm()

    @event.listens_for(engine, "handle_error")
    def disarm_on_error(_context):
        watchdog.disarm()

    dialect = engine.dialect
    for name, seconds in (
        ("do_ping", short_seconds),
        ("do_commit", statement_seconds),
        ("do_rollback", statement_seconds),
    ):
        setattr(dialect, name, _watched(getattr(dialect, name), watchdog, seconds))
    ping_after_idle(engine)


def ping_after_idle(engine: Engine) -> None:
    """pool_pre_ping, for connections idle PING_AFTER_IDLE_SECONDS or more: a dead one
    is replaced before the request uses it (SQLAlchemy's "checkout" event: raising
    DisconnectionError makes the pool try a new connection)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def note_use(_dbapi_connection, record):
        record.info["last_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("last_used", 0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # the watchdog's, on a frozen server
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("ping failed") from error


def _watched(call, watchdog: Watchdog, seconds: float):
    def watched(dbapi_connection, *args, **kwargs):
        watchdog.arm(dbapi_connection, seconds)
        try:
            return call(dbapi_connection, *args, **kwargs)
        finally:
            watchdog.disarm()

    return watched
