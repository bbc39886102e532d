"""T10, T16, T17, T18, T20, T21: tokens, redirects, locales, hostile input, hosts, logs."""

from __future__ import annotations

import logging
import string

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Answer
from app.models import Assessment
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.content import MINI_PROFILE
from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor


def test_tokens_have_at_least_128_bits_and_are_stored_hashed(app, client):
    visitor = Visitor(client)
    visitor.start()
    symbols = visitor.token.replace("-", "")  # 28 of 32 symbols: 140 random bits
    unmistakable = set(string.digits + string.ascii_uppercase) - set("ILOU")
    assert len(symbols) == 28 and set(symbols) <= unmistakable
    with app.app_context():
        stored = db.session.scalar(sa.select(Assessment.token_hash))
        assert visitor.token not in stored and len(stored) == 64
        rows = db.session.execute(sa.text("SELECT * FROM assessments")).all()
        assert all(visitor.token not in str(row) for row in rows)


def test_tokens_never_reach_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    visitor = Visitor(client)
    visitor.start()
    visitor.submit({"legal_cotizaciones": "si"})
    client.get("/es/a/not-a-token/")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert visitor.token not in text
    assert "not-a-token" not in text


def test_access_log_redacts_secrets():
    import gunicorn.config  # noqa: F401

    from tests.gunicorn_conf_loader import load

    logger_class = load().logger_class
    assert logger_class.__name__ == "RedactingLogger"
    pattern = load().SECRET_IN_PATH
    assert pattern.sub(r"\1…", "/es/a/AbC_123-xyz/s/legal-1") == "/es/a/…/s/legal-1"
    assert pattern.sub(r"\1…", "/es/c/campaigncode") == "/es/c/…"


def test_repeated_unknown_tokens_are_rate_limited(make_app):
    client = make_app(TOKEN_MISS_LIMIT="5 per minute").test_client()
    codes = [client.get(f"/es/a/{'x' * 43}{n}/").status_code for n in range(7)]
    assert codes == [404] * 5 + [429] * 2
    codes = [client.get(f"/es/c/nope{n}").status_code for n in range(7)]
    assert codes == [404] * 5 + [429] * 2  # campaign codes have a limit of their own


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(app, client, target):
    create_association(app, "A", "a@example.cl")
    token = csrf_token_of(client, "/es/associations/login")
    response = client.post(
        "/es/associations/login",
        query_string={"next": target},
        data={
            "csrf_token": token,
            "email": "a@example.cl",
            "password": "correct horse battery staple",
        },
    )
    assert response.headers["Location"] == "/es/associations/"


@pytest.mark.parametrize(
    ("value", "status"),
    [("../../etc/passwd", 404), ("<script>", 404), ("", 308), ("ES", 404), ("fr", 404)],
)
def test_locale_abuse(client, value, status):
    response = client.get(f"/{value}/")
    assert response.status_code == status
    if status == 308:  # "//" is "/" with its slashes merged
        assert response.headers["Location"] == "http://localhost/"
    response = client.get("/es/", query_string={"lang": value})
    assert response.status_code == 200
    assert '<html lang="es">' in response.get_data(as_text=True)


def test_untrusted_host_is_refused(make_app):
    client = make_app(TRUSTED_HOSTS=["autodiagnostico.example.cl"]).test_client()
    assert client.get("/es/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/es/", headers={"Host": "autodiagnostico.example.cl"}).status_code == 200


def test_oversized_and_nul_input(app, client):
    assert client.post("/es/a/new", data={"p_sector": "x" * 300_000}).status_code == 413
    visitor = Visitor(client)
    visitor.get("/es/a/new")
    response = visitor.submit(MINI_PROFILE | {"p_sector": "comercio\x00"}, follow=False)
    assert response.status_code == 400
    visitor.get("/es/a/new")
    response = visitor.submit(MINI_PROFILE | {"p_sector\x00": "comercio"}, follow=False)
    assert response.status_code == 400  # in a name
    assert client.get("/es/a/new?lang=es%00").status_code == 400  # in the address's query
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assessment.id))) == 0


def test_thousands_of_undeclared_fields_store_nothing(app, client):
    visitor = Visitor(client)
    visitor.start()
    extra = {f"field{n}": "x" for n in range(5000)}
    visitor.submit(extra | {"legal_cotizaciones": "si"})
    with app.app_context():
        names = set(db.session.scalars(sa.select(Answer.question_id)))
    assert not any(name.startswith("field") for name in names)


def test_invalid_utf8_is_not_a_500(client):
    visitor = Visitor(client)
    visitor.start()
    token = csrf_token_of(client, visitor.url)
    body = b"csrf_token=" + token.encode() + b"&action=next&legal_cotizaciones=%FF%FE%FA"
    response = client.post(visitor.url, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422  # an answer that is no option, shown as such
    assert 'id="error-summary"' in response.get_data(as_text=True)


FIELDS = [
    "legal_cotizaciones", "legal_protocolo_karin", "legal_proporcion_85", "p_dotacion_total",
    "action", "was-legal_cotizaciones", "unknown", "csrf_token",
]  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["si", "no", "parcial", "na", "dont_know", "-1", "1e309", "[]", "{}", "null"]),
    st.text(alphabet="\x00\ud800\uffff<>\"'%&;=", max_size=20).filter(lambda s: "\ud800" not in s),
    st.just("x" * 20_000),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.dictionaries(st.sampled_from(FIELDS), hostile_text, max_size=8))
def test_hostile_step_posts_never_500_and_keep_saved_answers(app, client, data):
    # Each example starts an assessment from one address (that limit: tests/test_costs.py).
    app.config["NEW_ASSESSMENT_LIMIT_PER_ADDRESS"] = "1000 per minute"
    visitor = Visitor(client)
    visitor.start()
    legal = visitor.url
    visitor.submit({"legal_cotizaciones": "si"})
    visitor.get(legal)
    with app.app_context():
        before = dict(db.session.execute(sa.select(Answer.question_id, Answer.value)).all())
    form = {"csrf_token": csrf_token_of(client, visitor.url)} | {
        k: v for k, v in data.items() if k != "csrf_token"
    }
    response = client.post(visitor.url, data=form)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.status_code in (400, 413, 422, 429)
        with app.app_context():
            after = dict(db.session.execute(sa.select(Answer.question_id, Answer.value)).all())
        assert after == before


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["/es/a/new", "/es/associations/login", "/es/associations/register",
                          "/es/associations/reset"]),
    data=st.dictionaries(
        st.sampled_from(
            ["email", "password", "confirm", "name", "p_tipo_organizacion", "p_dotacion_total", "x"]
        ),
        hostile_text,
        max_size=6,
    ),
)  # fmt: skip
def test_hostile_posts_to_every_public_form_never_500(client, path, data):
    form = {"csrf_token": csrf_token_of(client, path)} | data
    response = client.post(path, data=form)
    assert response.status_code < 500


def test_failed_login_is_logged_without_the_password(app, client, caplog):
    caplog.set_level(logging.INFO)
    create_association(app, "A", "a@example.cl")
    login(client, "a@example.cl", "secret wrong passphrase")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Failed login" in text
    assert "secret wrong passphrase" not in text
