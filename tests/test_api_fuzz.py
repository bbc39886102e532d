"""The API proven by a fuzzer nobody here wrote: Schemathesis reads /api/v1/openapi.json
from the test app (WSGI, no server) and sends every operation data that fits the
document (positive) and data that does not (negative), with a valid key or token where
the operation needs one. Every answer must be no server error, a status the document
lists for the operation, and a body that fits the document's schema for it.

Bounded for `make test` (API_FUZZ_EXAMPLES, default 25 per operation); the full run,
as README says: API_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/test_api_fuzz.py
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from app import create_app
from tests.conftest import app_config
from tests.support.accounts import add_members
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.api import API
from tests.support.api import create_key
from tests.support.api import start

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
UNLIMITED = "100000 per minute"


@pytest.fixture
def fuzzed_app(make_app):
    """The app with limits out of the fuzzer's way (tests/test_api.py proves them)."""
    return make_app(
        API_LIMIT_PER_ADDRESS=UNLIMITED,
        API_LIMIT_PER_KEY=UNLIMITED,
        NEW_ASSESSMENT_LIMIT_PER_ADDRESS=UNLIMITED,
        TOKEN_MISS_LIMIT=UNLIMITED,
    )


def assessment_token(app) -> str:
    """An assessment with its profile answered: every step is there to fuzz."""
    return start(app.test_client())


def api_key(app) -> str:
    """The key of an association whose campaign has a release to read."""
    client = app.test_client()
    create_association(app, "Cámara del Fuzz", "fuzz@example.cl")
    login(client, "fuzz@example.cl")
    add_members(app, new_campaign(client), 5, named=True)
    return create_key(client)


CREDENTIALS = {"assessmentToken": assessment_token, "apiKey": api_key}


def credential(app, scheme: str) -> str:
    """Made on the operation's first example, then kept for its others."""
    made = app.config.setdefault("FUZZ_CREDENTIALS", {})
    if scheme not in made:
        made[scheme] = CREDENTIALS[scheme](app)
    return made[scheme]


def load_schema():
    """The document as an app serves it (read once, at collection: it needs no database;
    each test then calls its own app). Schemathesis' fixture-based loader does not run
    on this pytest."""
    app = create_app(app_config("sqlite://"))
    config = SchemathesisConfig.from_dict(
        {"generation": {"mode": "all", "max-examples": EXAMPLES}, "seed": 19}
    )
    return schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app, config=config)


schema = load_schema()


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_its_document_says(case, fuzzed_app):
    needs = [name for need in case.operation.definition.raw.get("security", []) for name in need]
    # Plain bodies: the app gzips large ones, and the WSGI transport reads them as sent.
    headers = {"Accept-Encoding": "identity"}
    if needs:
        headers["Authorization"] = f"Bearer {credential(fuzzed_app, needs[0])}"
    case.call_and_validate(app=fuzzed_app, headers=headers, checks=CHECKS)
