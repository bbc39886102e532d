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
from sqlalchemy.engine import Connection
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


# A Core connection's execution option: its statements run outside any transaction, each
# one atomic on its own (SQLite: no BEGIN; PostgreSQL: the driver's autocommit).
OUTSIDE_TRANSACTION = "outside_transaction"


def reading_connection() -> Connection:
    """The connection an assessment page reads its assessment on (store.find).

    A request that writes from its start reads in its write transaction: the ORM
    session's connection. Any other reads on a Core connection of its own, outside a
    transaction: the lookup is one statement, atomic on its own, so BEGIN and COMMIT
    added nothing but work (on PostgreSQL, two of a page's three round trips), and the
    session's unit of work cost a page more than the statement did. A request that
    read first writes on this connection (`write_transaction`): one checkout."""
    from .extensions import db

    if wants_write():
        return db.session.connection()
    connection = g.get("reading_connection")
    if connection is None:
        connection = db.engine.connect().execution_options(**{OUTSIDE_TRANSACTION: True})
        g.reading_connection = connection
    return connection


@contextmanager
def write_transaction():
    """The writes of a request that read first: the session's reads end, and the block's
    statements run in one transaction (`BEGIN IMMEDIATE` on SQLite) on the request's
    reading connection, committed when the block ends, rolled back if it raises. Core,
    not the ORM session: its unit of work cost a page save more than the statements did."""
    from .extensions import db

    if db.session.registry.has() and db.session().in_transaction():  # a session that read
        db.session.commit()
    g.reading_first = False
    g.writes_done = False
    connection = g.get("reading_connection")
    if connection is None:
        connection = g.reading_connection = db.engine.connect()
    else:
        connection.commit()  # the reads outside a transaction: nothing to end in the database
        connection.execution_options(**{OUTSIDE_TRANSACTION: False})
    with connection.begin():
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
        reading = g.pop("reading_connection", None)
        if reading is not None:
            try:
                reading.close()
            except OperationalError:
                reading.invalidate()
        try:
            db.session.remove()
        except OperationalError:
            db.session().invalidate()
            db.session.remove()


def control_transactions(engine: Engine) -> None:
    """Open each transaction as the request needs it: on SQLite `BEGIN IMMEDIATE` for a
    request that writes (a writer waits for the lock instead of failing half-way), else
    `BEGIN`; none for a connection whose statements run outside a transaction
    (OUTSIDE_TRANSACTION, or SQLAlchemy's AUTOCOMMIT), on SQLite and PostgreSQL alike."""
    dialect = engine.dialect.name

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        options = connection.get_execution_options()
        # SQLAlchemy's own AUTOCOMMIT (e.g. for VACUUM) is a connection outside one too
        outside = options.get(OUTSIDE_TRANSACTION) or options.get("isolation_level") == "AUTOCOMMIT"
        if dialect == "postgresql":  # the driver begins by itself, unless in autocommit
            connection.connection.driver_connection.autocommit = outside
        elif dialect == "sqlite" and not outside:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write() else "BEGIN")


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
