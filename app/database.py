"""Database tuning and write helpers.

SQLite's defaults silently lose concurrent updates (docs/SECURITY.md 2.5: 727 of
801 in a measured test). So: WAL, a busy timeout, foreign keys, and our own
transaction control, with `BEGIN IMMEDIATE` for requests that write, so a
writer waits for the lock instead of failing half-way.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import g
from flask import has_request_context
from flask import request
from sqlalchemy import event
from sqlalchemy.engine import Engine

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def wants_write() -> bool:
    """Writes happen in unsafe requests (until their first commit) and in CLI commands.

    After a request has committed, its remaining reads (to choose the redirect, or
    to show the page again after an error) must not queue for the write lock; nor
    do the reads of a request that asked to `read_first()`."""
    if not has_request_context():
        return True
    return (
        request.method not in SAFE_METHODS
        and not g.get("writes_done")
        and not g.get("reading_first")
    )


def read_first() -> None:
    """Let this unsafe request read without holding the write lock, until it writes in a
    `write_transaction()`.

    A busy page save spends most of its time reading and validating; holding SQLite's
    single write lock all that time made concurrent saves wait for each other. The
    caller must re-check under the lock whatever its writes depend on."""
    g.reading_first = True


@contextmanager
def write_transaction():
    """The writes of a request that read first, on a connection of their own: the read
    transaction ends, the block's statements run in one transaction (`BEGIN IMMEDIATE`
    on SQLite), committed when the block ends, rolled back if it raises. Core, not the
    ORM session: its unit of work cost a page save more than the statements did."""
    from .extensions import db

    db.session.commit()
    g.reading_first = False
    g.writes_done = False
    with db.engine.begin() as connection:
        yield connection
    g.writes_done = True


def done_writing(_session) -> None:
    if has_request_context():
        g.writes_done = True


def init_app(app) -> None:
    """Mark a request's writes as done at its commit; survive a lost connection at teardown."""
    from sqlalchemy.exc import OperationalError

    from .extensions import db

    if not event.contains(db.session, "after_commit", done_writing):
        event.listen(db.session, "after_commit", done_writing)

    @app.teardown_appcontext
    def remove_session(_exception):
        # A database that died after the last query makes the closing ROLLBACK fail;
        # drop the connection instead of turning a served page into a 500.
        try:
            db.session.remove()
        except OperationalError:
            db.session().invalidate()
            db.session.remove()


def truncate_sqlite_log(engine: Engine) -> int:
    """Copy the write-ahead log into the database file and empty it, so the old page
    images it keeps (deleted rows included) are gone. Returns the SQLite `busy` flag:
    0 when the log was truncated, 1 when a reader kept it from being."""
    raw = engine.raw_connection()
    try:
        busy, _log_pages, _copied = raw.driver_connection.execute(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        ).fetchone()
    finally:
        raw.close()
    return busy


def tune_sqlite(engine: Engine, busy_timeout_ms: int, journal_size_limit: int = 64 << 20) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Take transaction control away from the sqlite3 module (SQLAlchemy docs,
        # "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # The log is checkpointed every 1000 pages and cut back to this size afterwards:
        # one large write never leaves a -wal file of its size on disk (2.7 item 20).
        cursor.execute("PRAGMA wal_autocheckpoint=1000")
        cursor.execute(f"PRAGMA journal_size_limit={int(journal_size_limit)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten, not just freed: a purged answer is not left in the
        # file (docs/SECURITY.md T24). Some builds do this by default; not all do.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write() else "BEGIN")
