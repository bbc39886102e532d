"""The models and the migrations describe the same schema.

`database_url` is a database that the project's Alembic migrations upgraded from
empty (tests/conftest.py: `migrate_database`), on SQLite and, when
TEST_DATABASE_URL is set, on PostgreSQL. Alembic's autogenerate compares it with
the models' metadata: a model changed without a migration (or a migration
without its model change) shows up as a difference.
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def differences(app, metadata) -> list:
    """What `flask db migrate` would write (Alembic's defaults: tables, columns, types,
    nullability, indexes and constraints; not server defaults, which migrations may
    add to fill existing rows)."""
    with app.app_context(), warnings.catch_warnings():
        # SQLite cannot reflect an index on an expression (ix_assessments_campaign_member):
        # Alembic leaves it out there and says so; the PostgreSQL run compares it.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        with db.engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), metadata)


def test_models_match_migrations(app):
    assert differences(app, db.metadata) == []


def test_a_column_without_a_migration_is_noticed(app):
    """The check above can fail: a model with one more column than the migrations."""
    changed = sa.MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["answers"].append_column(sa.Column("note", sa.Text(), nullable=True))
    found = differences(app, changed)
    assert [(d[0], d[2], d[3].name) for d in found] == [("add_column", "answers", "note")]
