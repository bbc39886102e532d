"""Calls to the JSON API (/api/v1) as a client program makes them: JSON in and out,
keys in the Authorization header."""

from __future__ import annotations

import re

from tests.support.content import profile_for
from tests.support.pages import csrf_token_of

API = "/api/v1"
NEW_KEY = re.compile(r'id="new-api-key"[^>]* value="(cmk_[A-Za-z0-9_-]+)"')


def bearer(credential: str) -> dict:
    return {"Authorization": f"Bearer {credential}"}


def as_json(profile: dict) -> dict:
    """The tests' profile form values as JSON answers: numbers as numbers."""
    return {k: int(v) if v.isdigit() else v for k, v in profile.items()}


def start(client, profile: dict | None = None, **query) -> str:
    """Start an assessment and answer its profile; returns the token."""
    response = client.post(f"{API}/assessments", json={}, query_string=query)
    assert response.status_code == 201, response.get_json()
    token = response.get_json()["token"]
    questionnaire_id = response.get_json()["questionnaire"]
    answers = profile if profile is not None else as_json(profile_for(questionnaire_id))
    answered = client.put(
        f"{API}/assessment/sections/profile", json={"answers": answers}, headers=bearer(token)
    )
    assert answered.status_code == 200, answered.get_json()
    return token


def answer_all(client, token: str, choose) -> None:
    """Answer every question the steps after the profile show, with `choose(question)`
    (as JSON: a list for several choices), as a person goes through the pages: a step
    again when its answers showed more questions on it."""
    headers = bearer(token)
    answered: set[str] = set()
    for _ in range(100):
        state = client.get(f"{API}/assessment", headers=headers).get_json()
        questionnaire = client.application.extensions["questionnaires"].get(
            state["questionnaire"], state["version"]
        )
        pending = [
            (step["id"], [q for q in step["questions"] if q not in answered])
            for step in state["steps"]
            if step["id"] != "profile"
        ]
        step_id, questions = next(((s, qs) for s, qs in pending if qs), (None, None))
        if step_id is None:
            return
        answers = {qid: choose(questionnaire.fields[qid]) for qid in questions}
        response = client.put(
            f"{API}/assessment/sections/{step_id}", json={"answers": answers}, headers=headers
        )
        assert response.status_code == 200, response.get_json()
        answered |= set(questions)
    raise AssertionError("the steps never ended")


def create_key(client, name: str = "Portal de socios", lang: str = "es") -> str:
    """Create an API key on the association's page (logged in) and read it, once."""
    path = f"/{lang}/associations/api-keys"
    response = client.post(path, data={"csrf_token": csrf_token_of(client, path), "name": name})
    assert response.status_code == 201, response.status_code
    return NEW_KEY.search(response.get_data(as_text=True)).group(1)
