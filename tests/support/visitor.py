"""A small 'browser' over the Flask test client: reads forms like a user agent."""

from __future__ import annotations

import re

from tests.support.content import profile_for
from tests.support.pages import Page

TOKEN_IN_URL = re.compile(r"/a/([A-Za-z0-9_-]{28,})/")


class Visitor:
    def __init__(self, client, lang="es"):
        self.client = client
        self.lang = lang
        self.page = ""
        self.url = ""
        self.token = None

    @property
    def questionnaire(self):
        """The questionnaire new assessments start with (the app's QUESTIONNAIRE)."""
        app = self.client.application
        return app.extensions["questionnaires"].get(app.config["QUESTIONNAIRE"])

    def get(self, url, expect=200):
        response = self.client.get(url)
        assert response.status_code == expect, (url, response.status_code)
        self.page = response.get_data(as_text=True)
        self.url = url
        return response

    def follow(self, response):
        while response.status_code in (302, 303):
            location = response.headers["Location"]
            match = TOKEN_IN_URL.search(location)
            if match:
                self.token = match.group(1)
            response = self.client.get(location)
            self.url = location
        assert response.status_code == 200, (self.url, response.status_code)
        self.page = response.get_data(as_text=True)
        return response

    def hidden_originals(self) -> dict:
        """The hidden `was-<question>` fields: what the page showed when it was rendered."""
        return Page(self.page).hidden("was-")

    @property
    def csrf_token(self) -> str:
        return Page(self.page).csrf_token

    def submit(self, data=None, action="next", url=None, follow=True, keep_originals=True):
        """Post the current page's form like a browser would (CSRF token, hidden fields)."""
        page = Page(self.page)
        form = {"csrf_token": page.csrf_token, "action": action}
        if keep_originals:
            form.update(page.hidden("was-"))
        form.update(data or {})
        response = self.client.post(url or self.url, data=form)
        if follow and response.status_code in (302, 303):
            return self.follow(response)
        self.page = response.get_data(as_text=True)
        return response

    def start(self, profile=None):
        """Open the profile form and send it; `profile` defaults to the one the tests
        give for the app's questionnaire (tests/support/content.py)."""
        self.get(f"/{self.lang}/a/new")
        return self.submit(profile or profile_for(self.questionnaire.id))

    def answer_all(self, choose):
        """Answer every step until the review page; `choose(question)` gives a form value."""
        questionnaire = self.questionnaire
        for _ in range(len(questionnaire.sections) + 2):
            if "/review" in self.url:
                return
            section_id = self.url.rsplit("/s/", 1)[1]
            section = questionnaire.section_by_id[section_id]
            data = {}
            for question in section.questions:
                if f'id="q-{question.id}"' in self.page:
                    data[question.id] = choose(question)
            self.submit(data)
        raise AssertionError("never reached the review page")


def best(question):
    value = question.best_answer()
    return list(value) if isinstance(value, list) else value


def worst(question):
    value = question.worst_answer()
    return list(value) if isinstance(value, list) else value
