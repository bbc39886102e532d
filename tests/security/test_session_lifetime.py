"""T11: an account session ends 12 hours after the login however active it is, and
the cookie set at login expires at that moment (docs/SECURITY.md T11, 2.4)."""

from __future__ import annotations

import time
from datetime import UTC
from datetime import datetime
from http.cookies import SimpleCookie

import flask.sessions

from tests.support.accounts import create_association
from tests.support.accounts import login

TWELVE_HOURS = 12 * 3600


def test_active_sessions_end_twelve_hours_after_login(make_app, monkeypatch):
    """A request every 20 minutes keeps the idle limit happy; 12 h after login it ends."""
    app = make_app()
    client = app.test_client()
    create_association(app, "A", "a@example.cl")
    start = time.time()
    clock = [start]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    login(client, "a@example.cl")
    while clock[0] < start + TWELVE_HOURS - 20 * 60:
        clock[0] += 20 * 60
        assert client.get("/es/associations/").status_code == 200, (clock[0] - start) / 3600
    clock[0] = start + TWELVE_HOURS + 1
    response = client.get("/es/associations/")
    assert response.status_code == 302 and "/associations/login" in response.headers["Location"]


def expiry(response) -> datetime:
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    return datetime.strptime(
        SimpleCookie(header)["session"]["expires"], "%a, %d %b %Y %H:%M:%S GMT"
    ).replace(tzinfo=UTC)


def test_session_cookie_expires_twelve_hours_after_login(make_app, monkeypatch):
    app = make_app()
    client = app.test_client()
    create_association(app, "A", "a@example.cl")
    start = time.time()
    clock = [start]

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(clock[0], tz)

    monkeypatch.setattr(time, "time", lambda: clock[0])
    monkeypatch.setattr(flask.sessions, "datetime", Clock)  # what Flask dates cookies with
    at_login = expiry(login(client, "a@example.cl"))
    assert abs(at_login.timestamp() - (start + TWELVE_HOURS)) < 2
    clock[0] += 5 * 3600
    later = client.get("/es/associations/")
    assert later.status_code == 200
    assert expiry(later) == at_login  # activity never pushes the end further
