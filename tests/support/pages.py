"""A small reader for the app's HTML pages: forms as a browser would send them,
and the CSRF token. Standard library only (bench/ imports it too)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser

QUESTION_PREFIX = "q-"  # each question's container has id="q-<question id>"


@dataclass
class Form:
    """One <form>: its successful fields in page order (checked boxes only), what kind
    of input each question is, the options of each choice and the questions shown."""

    attributes: dict = field(default_factory=dict)
    fields: list = field(default_factory=list)  # [(name, value)] in page order
    kinds: dict = field(default_factory=dict)  # question name -> radio | checkbox | text
    options: dict = field(default_factory=dict)  # question name -> [values]
    questions: list = field(default_factory=list)  # question ids in page order

    @property
    def classes(self) -> list[str]:
        return (self.attributes.get("class") or "").split()

    def value(self, name: str):
        """What the browser would send for `name`: a list for check boxes."""
        values = [v for n, v in self.fields if n == name]
        if self.kinds.get(name) == "checkbox":
            return values
        return values[0] if values else None

    def filled(self, answers: dict, action: str = "next") -> list:
        """The fields the browser sends after the user changed `answers` (lists for checkboxes)."""
        pairs = [(n, v) for n, v in self.fields if n not in answers and n != "action"]
        for name, value in answers.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                pairs.append((name, str(item)))
        pairs.append(("action", action))
        return pairs


class Page(HTMLParser):
    """Every form of a page, and every <input> of the page (in or out of a form)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.forms: list[Form] = []
        self.inputs: list[dict] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list] | None = None
        self.feed(html)
        self.close()

    # --- HTMLParser ---------------------------------------------------------------

    def handle_starttag(self, tag, attrs):
        attributes = {name: value if value is not None else "" for name, value in attrs}
        form = self._form
        if tag == "form":
            self._form = Form(attributes=attributes)
            self.forms.append(self._form)
            return
        if tag == "input":
            self.inputs.append(attributes)
        if form is None:
            return
        identifier = attributes.get("id", "")
        if identifier.startswith(QUESTION_PREFIX):
            form.questions.append(identifier[len(QUESTION_PREFIX) :])
        if tag == "input":
            self._input(form, attributes)
        elif tag == "textarea" and attributes.get("name"):
            self._textarea = (attributes["name"], [])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            self._form.kinds[name] = "text"
            self._form.fields.append((name, "".join(parts)))
            self._textarea = None
        elif tag == "form":
            self._form = None

    @staticmethod
    def _input(form: Form, attributes: dict) -> None:
        name, kind = attributes.get("name"), attributes.get("type", "text")
        if not name or kind in ("submit", "button"):
            return
        if kind in ("radio", "checkbox"):
            value = attributes.get("value", "on")
            form.kinds[name] = kind
            form.options.setdefault(name, []).append(value)
            if "checked" in attributes:
                form.fields.append((name, value))
            return
        if kind == "text" and name in form.questions:
            form.kinds[name] = "text"
        form.fields.append((name, attributes.get("value", "")))

    # --- Queries ------------------------------------------------------------------

    def form(self, css_class: str) -> Form:
        for form in self.forms:
            if css_class in form.classes:
                return form
        raise AssertionError(f'no <form class="{css_class}"> on the page:\n{self.html[:2000]}')

    def hidden(self, prefix: str = "") -> dict:
        """{name: value} of the page's hidden inputs whose name starts with prefix."""
        return {
            i["name"]: i.get("value", "")
            for i in self.inputs
            if i.get("type") == "hidden" and i.get("name", "").startswith(prefix)
        }

    @property
    def csrf_token(self) -> str:
        for attributes in self.inputs:
            if attributes.get("name") == "csrf_token" and attributes.get("value"):
                return attributes["value"]
        raise AssertionError(f"no CSRF token on the page:\n{self.html[:2000]}")


def csrf_token(html: str) -> str:
    """The CSRF token of a page (every form of a page carries the same one)."""
    return Page(html).csrf_token


def csrf_token_of(client, url: str) -> str:
    """GET `url` with a Flask test client and return the page's CSRF token."""
    return csrf_token(client.get(url).get_data(as_text=True))


def step_form(html: str) -> Form:
    """The form of a journey step (profile, a section), as a browser would send it."""
    return Page(html).form("step-form")
