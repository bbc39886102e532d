"""Fixtures of the reliability tests: a migrated database per module, on SQLite
and again on PostgreSQL when TEST_DATABASE_URL is set (a fresh schema of its own)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.reliability.support import fresh_postgres_schema

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(request, sqlite_template, tmp_path_factory):
    """A migrated database shared by the tests of one module (they use their own
    assessments, so they do not see each other's rows)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("reliability") / "app.sqlite"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    problem = getattr(request.config, "postgres_problem", None)
    if problem:
        pytest.skip(f"PostgreSQL unavailable: {problem}")
    with fresh_postgres_schema(os.environ["TEST_DATABASE_URL"]) as url:
        yield url
