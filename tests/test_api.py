"""The JSON API (/api/v1): its document, the assessment journey through it, the same
validation and results as the web, and the web's protections (README, "JSON API")."""

from __future__ import annotations

import json
import logging

import pytest
from markupsafe import escape
from openapi_spec_validator import validate
from sqlalchemy.exc import OperationalError

from app.assess import store
from app.i18n import content_for
from tests.support.accounts import create_association
from tests.support.accounts import login
from tests.support.api import API
from tests.support.api import answer_all
from tests.support.api import as_json
from tests.support.api import bearer
from tests.support.api import create_key
from tests.support.api import start
from tests.support.content import EMPRESA
from tests.support.content import MINI_PROFILE
from tests.support.content import SHIPPED
from tests.support.visitor import Visitor
from tests.support.visitor import best


def test_the_document_is_valid_openapi_3_1_listing_every_operation(client):
    response = client.get(f"{API}/openapi.json")
    document = response.get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert operations == {
        "GET /api/v1/questionnaires",
        "GET /api/v1/questionnaires/{questionnaire_id}/{version}",
        "POST /api/v1/assessments",
        "GET /api/v1/assessment",
        "PUT /api/v1/assessment/sections/{section_id}",
        "POST /api/v1/assessment/submit",
        "GET /api/v1/assessment/results",
        "GET /api/v1/campaigns",
        "GET /api/v1/campaigns/{campaign_id}",
    }
    for item in document["paths"].values():
        for method, operation in item.items():
            if method != "parameters":  # each status listed: none hidden behind "default"
                assert "default" not in operation["responses"]
                assert {"400", "429", "503"} <= set(operation["responses"])


def test_the_documentation_page_is_drawn_from_the_document_without_script(client):
    response = client.get(f"{API}/docs?lang=ht")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script" not in page.split("</main>")[0]  # the site's own app.js at most
    assert "PUT /api/v1/assessment/sections/{section_id}" in page
    assert 'id="schema-AssessmentState"' in page
    assert 'lang="ht"' in page
    assert "Set-Cookie" not in response.headers


def test_questionnaires_follow_the_export_contract_with_texts_in_the_language(app, client, runner):
    listed = client.get(f"{API}/questionnaires").get_json()
    assert [(q["id"], q["version"]) for q in listed] == [("mini", 1)]
    exported = json.loads(runner.invoke(args=["questionnaire", "export", "mini"]).output)
    document = client.get(f"{API}/questionnaires/mini/1?lang=en").get_json()
    # Every key and value of `questionnaire export` is there, unchanged.
    for key in ("id", "version", "languages"):
        assert document[key] == exported[key]
    for key in ("profile", "levels"):
        for exported_item, item in zip(exported[key], document[key], strict=True):
            assert exported_item.items() <= item.items()
    for exported_dimension, dimension in zip(
        exported["dimensions"], document["dimensions"], strict=True
    ):
        questions = exported_dimension.pop("questions")
        assert exported_dimension.items() <= dimension.items()
        for exported_question, question in zip(questions, dimension["questions"], strict=True):
            assert exported_question.items() <= question.items()
    questionnaire = app.extensions["questionnaires"].get("mini")
    first = questionnaire.questions[0]
    assert document["dimensions"][0]["questions"][0]["text"] != first.text  # English, not Spanish
    assert document["language"] == "en"
    assert client.get(f"{API}/questionnaires/mini/2").status_code == 404
    assert client.get(f"{API}/questionnaires/mini/0").get_json()["code"] == 404


def test_an_assessment_from_start_to_result(client):
    created = client.post(f"{API}/assessments", json={"language": "ht"})
    assert created.status_code == 201
    token = created.get_json()["token"]
    assert created.get_json()["next_step"] == "profile"
    assert token not in created.headers.get("Location", "")
    profile = client.put(
        f"{API}/assessment/sections/profile",
        json={"answers": as_json(MINI_PROFILE)},
        headers=bearer(token),
    ).get_json()
    assert profile["language"] == "ht"
    assert profile["steps"][0]["saved"] and profile["next_step"] == "legal"
    assert profile["profile"]["p_dotacion_total"] == 80
    early = client.get(f"{API}/assessment/results", headers=bearer(token))
    assert early.status_code == 409
    answer_all(client, token, best)
    state = client.get(f"{API}/assessment", headers=bearer(token)).get_json()
    assert state["next_step"] is None and not state["submitted"]
    submitted = client.post(f"{API}/assessment/submit", headers=bearer(token))
    assert submitted.status_code == 200
    result = submitted.get_json()
    assert result["overall"] == 100 and result["next_level"] is None
    again = client.post(f"{API}/assessment/submit", headers=bearer(token))
    assert again.get_json() == result  # submitting twice changes nothing
    changed = client.put(
        f"{API}/assessment/sections/legal", json={"answers": {}}, headers=bearer(token)
    )
    assert changed.status_code == 409
    # The same token opens the same assessment on the web.
    assert client.get(f"/es/a/{token}/results").status_code == 200


def test_answers_are_validated_as_the_web_validates_them_with_its_messages(app, client):
    visitor = Visitor(app.test_client(), lang="ht")
    visitor.get("/ht/a/new")
    web = visitor.submit({**MINI_PROFILE, "p_dotacion_total": "muchos"})
    assert web.status_code == 422
    created = client.post(f"{API}/assessments", json={})
    token = created.get_json()["token"]
    api = client.put(
        f"{API}/assessment/sections/profile?lang=ht",
        json={"answers": {**as_json(MINI_PROFILE), "p_dotacion_total": "muchos", "nada": 1}},
        headers=bearer(token),
    )
    assert api.status_code == 422
    errors = api.get_json()["errors"]
    assert set(errors) == {"p_dotacion_total", "nada"}
    [message] = errors["p_dotacion_total"]
    assert str(escape(message)) in visitor.page  # the web's message for the same answer
    assert message != "Enter a whole number, for example 12."  # in Creole
    # Accept-Language chooses too; a wrong kind of answer has its own message.
    wrong = client.put(
        f"{API}/assessment/sections/profile",
        json={"answers": {"p_sector": 3, "p_dotacion_total": 2.5}},
        headers={**bearer(token), "Accept-Language": "en"},
    ).get_json()
    assert wrong["errors"]["p_sector"] == ["Choose one of the options."]
    assert wrong["errors"]["p_dotacion_total"] == ["Enter a whole number, for example 12."]
    # Nothing was stored.
    assert client.get(f"{API}/assessment", headers=bearer(token)).get_json()["profile"] == {}


def test_a_cross_field_check_refuses_the_page_with_the_questionnaires_message(make_app):
    client = make_app(**SHIPPED).test_client()
    token = client.post(f"{API}/assessments", json={}).get_json()["token"]
    broken = {**as_json(EMPRESA), "p_dotacion_extranjera": 500}
    response = client.put(
        f"{API}/assessment/sections/profile?lang=ht",
        json={"answers": broken},
        headers=bearer(token),
    )
    assert response.status_code == 422
    questionnaire = client.application.extensions["questionnaires"].get("compromiso-migrante")
    [check] = [c for c in questionnaire.checks if c.id == "extranjeros_en_total"]
    with client.application.test_request_context("/ht/"):
        message = content_for(questionnaire, "ht")(check, "message")
    assert response.get_json()["errors"]["p_dotacion_extranjera"] == [message]


def test_api_and_web_give_byte_identical_results_for_the_same_answers(
    app, client, runner, tmp_path
):
    visitor = Visitor(app.test_client())
    visitor.start()
    visitor.answer_all(best)
    visitor.submit()
    assert visitor.url.endswith("/results")
    token = start(client)
    answer_all(client, token, best)
    assert client.post(f"{API}/assessment/submit", headers=bearer(token)).status_code == 200
    for lang in ("es", "ht"):
        from_web = client.get(
            f"{API}/assessment/results?lang={lang}", headers=bearer(visitor.token)
        )
        from_api = client.get(f"{API}/assessment/results?lang={lang}", headers=bearer(token))
        assert from_web.get_data() == from_api.get_data()
    # ... and the same JSON as `flask questionnaire score` for those answers.
    state = client.get(f"{API}/assessment", headers=bearer(token)).get_json()
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"profile": state["profile"], "answers": state["answers"]}))
    scored = runner.invoke(args=["questionnaire", "score", "mini", str(answers), "--lang", "ht"])
    assert json.loads(scored.output) == from_api.get_json()


def test_unknown_tokens_addresses_and_methods_are_json_errors(client):
    missing = client.get(f"{API}/assessment")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.get(f"{API}/assessment", headers=bearer("x" * 43))
    assert wrong.status_code == 401 and wrong.get_json()["code"] == 401
    unknown = client.get(f"{API}/nothing-here?lang=en").get_json()
    assert unknown == {"code": 404, "message": "Not found."}
    not_allowed = client.delete(f"{API}/assessments")
    assert not_allowed.status_code == 405 and "POST" in not_allowed.headers["Allow"]
    assert not_allowed.is_json


@pytest.mark.parametrize(
    "body",
    [
        b'{"answers": {"p_sector": "a\\u0000b"}}',  # NUL, refused by the web in any field
        b'{"answers": {"p_sector": "\\ud800"}}',  # a lone surrogate no database stores
        b"[" * 50_000,  # nesting deeper than any parser's stack
        b'{"answers": ',
        b"\xff\xfe",
    ],
)
def test_bodies_the_database_cannot_store_are_refused_with_400(client, body):
    token = client.post(f"{API}/assessments", json={}).get_json()["token"]
    response = client.put(
        f"{API}/assessment/sections/profile",
        data=body,
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 400 and response.is_json


def test_no_cookie_no_csrf_and_no_caching_even_for_a_logged_in_browser(app, client):
    create_association(app, "Cámara del Sur", "sur@example.cl")
    assert login(client, "sur@example.cl").status_code == 302
    response = client.post(f"{API}/assessments", json={})  # no CSRF token: none needed
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    for path in ("/questionnaires", "/campaigns", "/docs", "/openapi.json"):
        assert "Set-Cookie" not in client.get(API + path).headers


def test_cors_is_off_unless_an_origin_is_configured(make_app):
    closed = make_app().test_client()
    plain = closed.get(f"{API}/questionnaires", headers={"Origin": "https://portal.example"})
    assert "Access-Control-Allow-Origin" not in plain.headers
    client = make_app(API_CORS_ORIGINS=["https://portal.example"]).test_client()
    preflight = client.options(
        f"{API}/assessment",
        headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://portal.example"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    other = client.get(f"{API}/questionnaires", headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_rate_limits_per_address_and_per_key_answer_429_with_retry_after(make_app):
    by_address = make_app(API_LIMIT_PER_ADDRESS="3 per minute").test_client()
    codes = [by_address.get(f"{API}/questionnaires").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = by_address.get(f"{API}/questionnaires")
    assert int(limited.headers["Retry-After"]) >= 1 and limited.get_json()["code"] == 429
    app = make_app(API_LIMIT_PER_KEY="2 per minute")
    client = app.test_client()
    first = start(client)  # saving its profile is the token's first call
    calls = [client.get(f"{API}/assessment", headers=bearer(first)).status_code for _ in range(2)]
    assert calls == [200, 429]
    second = start(client)  # another token from the same address counts on its own
    assert client.get(f"{API}/assessment", headers=bearer(second)).status_code == 200


def test_guessing_tokens_is_limited_like_unknown_links(make_app):
    client = make_app(TOKEN_MISS_LIMIT="3 per minute").test_client()
    codes = [
        client.get(f"{API}/assessment", headers=bearer(f"guess{n}")).status_code for n in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_a_body_over_the_limit_is_413(make_app):
    client = make_app(API_MAX_BODY_KB=1).test_client()
    token = client.post(f"{API}/assessments", json={}).get_json()["token"]
    response = client.put(
        f"{API}/assessment/sections/profile",
        json={"answers": {"p_sector": "x" * 2000}},
        headers=bearer(token),
    )
    assert response.status_code == 413 and response.is_json


def test_a_database_outage_is_a_503_to_retry(client, monkeypatch):
    token = client.post(f"{API}/assessments", json={}).get_json()["token"]

    def locked(_token):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(store, "find", locked)
    response = client.get(f"{API}/assessment", headers=bearer(token))
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"


def test_no_token_or_key_reaches_the_log(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    token = start(client)
    answer_all(client, token, best)
    client.post(f"{API}/assessment/submit", headers=bearer(token))
    client.get(f"{API}/assessment/results", headers=bearer(token))
    create_association(app, "Cámara del Centro", "centro@example.cl")
    login(client, "centro@example.cl")
    key = create_key(client)
    client.get(f"{API}/campaigns", headers=bearer(key))
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "submitted through the API" in logged
    assert token not in logged and key not in logged
