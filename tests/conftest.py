"""Fixtures: an app per test on SQLite, and again on PostgreSQL when
TEST_DATABASE_URL is set (each session in a fresh schema of its own).

Apps run the small fixture questionnaire (tests/fixtures/questionnaires/mini)
unless a test asks for the shipped one: `make_app(**SHIPPED)`."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.engine import load_text
from tests.support.content import MINI
from tests.support.content import translations_directory

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "questionnaires" / "README.md"
TEST_SECRET = secrets.token_hex(32)


def readme_example() -> str:
    """The complete example of questionnaires/README.md, exactly as documented."""
    return re.search(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)


@pytest.fixture(scope="session")
def example():
    return load_text(readme_example(), "README.md")


@pytest.fixture(scope="session")
def example_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("questionnaires")
    (directory / "ejemplo").mkdir()
    (directory / "ejemplo" / "v1.yaml").write_text(readme_example(), encoding="utf-8")
    return directory


def app_config(database_url: str, **extra) -> dict:
    """Test settings: the fixture questionnaire and freshly compiled catalogs, unless
    `extra` says otherwise (e.g. `**SHIPPED` from tests/support/content.py)."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Links on the test client's own address; a server database needs it (docs/SECURITY.md T20).
        "BASE_URL": "http://localhost",
        "TRANSLATIONS_DIR": translations_directory(),
        **MINI,
        **extra,
    }


def migrate_database(database_url: str) -> None:
    app = create_app(app_config(database_url))
    with app.app_context():
        upgrade()
        from app.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """Migrate once; each test gets a copy of the migrated file."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite"
    migrate_database(f"sqlite:///{path}")
    return path


def _postgres_available(url: str) -> str | None:
    try:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # any failure to connect means "unavailable"
        return f"{error.__class__.__name__}: {error}".splitlines()[0]
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e is `e2e`, every test under tests/reliability is
    `reliability`, whatever its module declares: `-m "not e2e and not reliability"`
    (make test-fast) never runs a browser or a load test by accident."""
    folders = {ROOT / "tests" / name: name for name in ("e2e", "reliability")}
    for item in items:
        for folder, marker in folders.items():
            if folder in item.path.parents:
                item.add_marker(marker)


def pytest_configure(config):
    url = os.environ.get("TEST_DATABASE_URL")
    if os.environ.get("CI") and not url:
        raise pytest.UsageError(
            "CI is set but TEST_DATABASE_URL is not: PostgreSQL would be skipped"
        )
    if url:
        problem = _postgres_available(url)
        if problem and os.environ.get("CI"):
            raise pytest.UsageError(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {problem}")
        config.postgres_problem = problem


BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def postgres_url(request):
    problem = getattr(request.config, "postgres_problem", None)
    if problem:
        pytest.skip(f"PostgreSQL unavailable: {problem}")
    base = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    migrate_database(url)
    yield url
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables if t != "alembic_version")
        if names:
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def make_app(database_url):
    """Build an app on this test's database with extra settings."""
    apps = []

    def build(**extra):
        app = create_app(app_config(database_url, **extra))
        apps.append(app)
        return app

    yield build
    from app.extensions import db

    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
