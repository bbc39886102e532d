"""Two hosts that start at once both run `flask db upgrade` on a fresh database: both
succeed (the second waits for the first's lock, then finds nothing to do)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.reliability.support import ROOT
from tests.reliability.support import SECRET
from tests.reliability.support import sa_url

pytestmark = pytest.mark.reliability


def upgrade_twice_at_once(database_url: str) -> list[subprocess.CompletedProcess]:
    environment = os.environ | {
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "TRUSTED_HOSTS": "localhost",
        "BASE_URL": "http://localhost",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    processes = [
        subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        output, _ = process.communicate(timeout=120)
        results.append((process.returncode, output.decode()))
    return results


def assert_migrated(url: str) -> None:
    engine = sa.create_engine(sa_url(url))
    with engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert len(versions) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_upgrades_at_once_on_a_fresh_sqlite_file(tmp_path, attempt):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    for status, output in upgrade_twice_at_once(url):
        assert status == 0, output[-2000:]
    assert_migrated(url)


@pytest.mark.parametrize("attempt", range(3))
def test_two_upgrades_at_once_on_a_fresh_postgresql_schema(request, attempt):
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or getattr(request.config, "postgres_problem", None):
        pytest.skip("PostgreSQL: TEST_DATABASE_URL is not set or unreachable")
    schema = f"fresh_{os.getpid()}_{attempt}"
    admin = sa.create_engine(sa_url(base))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}?options=-csearch_path%3D{schema}"
    try:
        for status, output in upgrade_twice_at_once(url):
            assert status == 0, output[-2000:]
        assert_migrated(url)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
