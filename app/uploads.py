"""Files sent through a form: the few views that take one may receive more than
MAX_CONTENT_LENGTH, their own setting, and a file too large gets a message that says so.

The limit has to be known before anything reads the body: a guard that runs on every
request (app/security.py) parses the form first. So the request itself asks the view
it was routed to (routing comes before any `before_request`)."""

from __future__ import annotations

from flask import Request
from flask import current_app
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge


def upload_limit(setting: str):
    """Let a view receive a body of up to `current_app.config[setting]` bytes."""

    def mark(view):
        view.upload_limit = setting
        return view

    return mark


class FileTooLarge(RequestEntityTooLarge):
    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    @property
    def page_message(self) -> str:
        megabytes = self.limit // (1024 * 1024)
        return _(
            "The file is larger than %(size)s MB. Export fewer submissions at a time and "
            "send each file.",
            size=megabytes,
        )


class UploadRequest(Request):
    def _upload_setting(self) -> str | None:
        if self.url_rule is None:
            return None
        view = current_app.view_functions.get(self.url_rule.endpoint)
        return getattr(view, "upload_limit", None)

    @property
    def max_content_length(self) -> int | None:
        setting = self._upload_setting()
        if setting is not None:
            return current_app.config[setting]
        return super().max_content_length

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except RequestEntityTooLarge:
            setting = self._upload_setting()
            if setting is None:
                raise
            raise FileTooLarge(current_app.config[setting]) from None
