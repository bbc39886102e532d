"""A small 'browser' over the Flask test client: reads forms like a user agent."""

from __future__ import annotations

import re
from html import unescape

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ORIGINAL = re.compile(r'<input type="hidden" name="(was-[^"]+)" value="([^"]*)"')

EMPRESA = {
    "p_tipo_organizacion": "empresa",
    "p_regimen_laboral": "codigo_trabajo",
    "p_dotacion_total": "80",
    "p_dotacion_extranjera": "12",
    "p_intermediarios": "si",
    "p_contratistas": "si",
    "p_atencion_publico": "si",
    "p_sector": "comercio",
    "p_region": "metropolitana",
    "p_carta_firmada": "no",
}


class Visitor:
    def __init__(self, client, lang="es"):
        self.client = client
        self.lang = lang
        self.page = ""
        self.url = ""
        self.token = None

    def get(self, url, expect=200):
        response = self.client.get(url)
        assert response.status_code == expect, (url, response.status_code)
        self.page = response.get_data(as_text=True)
        self.url = url
        return response

    def follow(self, response):
        while response.status_code in (302, 303):
            location = response.headers["Location"]
            match = re.search(r"/a/([A-Za-z0-9_-]{40,})/", location)
            if match:
                self.token = match.group(1)
            response = self.client.get(location)
            self.url = location
        assert response.status_code == 200, (self.url, response.status_code)
        self.page = response.get_data(as_text=True)
        return response

    def hidden_originals(self) -> dict:
        return {name: unescape(value) for name, value in ORIGINAL.findall(self.page)}

    def submit(self, data=None, action="next", url=None, follow=True, keep_originals=True):
        """Post the current page's form like a browser would (CSRF token, hidden fields)."""
        form = {"csrf_token": CSRF.search(self.page).group(1), "action": action}
        if keep_originals:
            form.update(self.hidden_originals())
        form.update(data or {})
        response = self.client.post(url or self.url, data=form)
        if follow and response.status_code in (302, 303):
            return self.follow(response)
        self.page = response.get_data(as_text=True)
        return response

    def start(self, profile=None):
        self.get(f"/{self.lang}/a/new")
        return self.submit(profile or EMPRESA)

    def answer_all(self, choose):
        """Answer every step until the review page; `choose(question)` gives a form value."""
        questionnaire = self.client.application.extensions["questionnaires"].get(
            "compromiso-migrante"
        )
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
