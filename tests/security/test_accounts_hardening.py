"""T9: registration and password resets that do not reveal who has an account (the
same work, no e-mail sent inside the request), e-mail addresses confirmed before
programme staff see a registration, and no common passwords.

docs/SECURITY.md cites each test here by name. The session lifetime is in
test_session_lifetime.py, where rate limits count in test_rate_limit_storage.py."""

from __future__ import annotations

import logging
import re
import smtplib
import threading
import time

import pytest
import sqlalchemy as sa

from app.accounts import auth
from app.extensions import db
from app.models import Association
from app.models import PasswordReset
from tests.support.accounts import PASSWORD
from tests.support.accounts import create_association
from tests.support.accounts import create_staff
from tests.support.accounts import login
from tests.support.pages import csrf_token_of

LINK = re.compile(r"https?://localhost(/\S+/associations/confirm\?token=[\w.\-]+)")


class FakeSMTP:
    """smtplib.SMTP that records messages; `gate` (an Event) holds each send until
    set, `delay` sleeps before each send. A fresh subclass per test (`smtp` fixture)."""

    delay = 0.0
    gate: threading.Event | None = None
    sent: list
    finished: threading.Event

    def __init__(self, host, port=0, timeout=None):
        self.host = host

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        if self.gate is not None:
            self.gate.wait(timeout=5)
        if self.delay:
            time.sleep(self.delay)
        self.sent.append(message)
        self.finished.set()


@pytest.fixture
def smtp(monkeypatch):
    fake = type("Fake", (FakeSMTP,), {"sent": [], "finished": threading.Event()})
    monkeypatch.setattr(smtplib, "SMTP", fake)
    return fake


def outbox(app):
    return app.extensions["outbox"]


def drain(app, smtp):
    """Let the fake SMTP run at full speed and wait until every queued e-mail left."""
    smtp.delay = 0
    if smtp.gate is not None:
        smtp.gate.set()
    assert outbox(app).wait_idle(timeout=30)


def body(message) -> str:
    return message.get_body().get_content()


_address = iter(range(1, 1_000_000))


def fresh_address() -> dict:
    """A new client address per request: the 5-an-hour limits of register and reset
    must not decide these tests."""
    n = next(_address)
    return {"REMOTE_ADDR": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}


def register(client, email, password=PASSWORD, name="Gremio Nuevo", lang="es"):
    path = f"/{lang}/associations/register"
    token = csrf_token_of(client, path)
    return client.post(
        path,
        data={
            "csrf_token": token,
            "name": name,
            "email": email,
            "password": password,
            "confirm": password,
        },
        environ_base=fresh_address(),
    )


def request_reset(client, email, lang="es"):
    path = f"/{lang}/associations/reset"
    token = csrf_token_of(client, path)
    return client.post(
        path, data={"csrf_token": token, "email": email}, environ_base=fresh_address()
    )


def status_of(app, email) -> str:
    with app.app_context():
        return auth.find_user(email).association.status


def logged_link(app, caplog) -> str:
    """Without SMTP, the sender thread logs the link for the operator."""
    assert outbox(app).wait_idle(timeout=10)
    links = [m.group(1) for r in caplog.records if (m := LINK.search(r.getMessage()))]
    assert links, "no confirmation link in the log"
    return links[-1]


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", html)


# --- 1. The same work for known and unknown e-mail addresses --------------------------


def test_registration_hashes_the_password_for_known_and_unknown_emails(app, client, monkeypatch):
    create_association(app, "Conocida", "known@example.cl")
    calls = []
    real = auth.hash_password
    monkeypatch.setattr(auth, "hash_password", lambda password: calls.append(1) or real(password))
    register(client, "known@example.cl")
    known = len(calls)
    register(client, "unknown@example.cl")
    assert known == len(calls) - known == 1


@pytest.mark.parametrize("kind", ["register", "reset"])
def test_mail_leaves_after_the_response(make_app, smtp, kind):
    """The request answers while the SMTP server still holds the message."""
    app = make_app(SMTP_HOST="smtp.example.cl")
    client = app.test_client()
    create_association(app, "Conocida", "known@example.cl")
    smtp.gate = threading.Event()
    if kind == "register":
        response = register(client, "new@example.cl")
    else:
        response = request_reset(client, "known@example.cl")
    assert response.status_code == 200
    assert not smtp.finished.is_set(), "the request waited for the SMTP server"
    drain(app, smtp)
    [message] = smtp.sent
    assert message["To"] == ("new@example.cl" if kind == "register" else "known@example.cl")
    assert ("/confirm?token=" if kind == "register" else "/reset/") in body(message)


def test_reset_without_smtp_still_waits_for_programme_staff(app, client):
    create_association(app, "Conocida", "known@example.cl")
    request_reset(client, "known@example.cl")
    request_reset(client, "nobody@example.cl")
    assert outbox(app).wait_idle(timeout=10)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PasswordReset.id))) == 1


def test_undeliverable_reset_mail_waits_for_programme_staff(make_app, monkeypatch, caplog):
    class Refusing(FakeSMTP):
        def send_message(self, message):
            raise smtplib.SMTPRecipientsRefused({})

    monkeypatch.setattr(smtplib, "SMTP", Refusing)
    app = make_app(SMTP_HOST="smtp.example.cl")
    create_association(app, "Conocida", "known@example.cl")
    request_reset(app.test_client(), "known@example.cl")
    assert outbox(app).wait_idle(timeout=10)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PasswordReset.id))) == 1
    assert "SMTPRecipientsRefused" in caplog.text


# --- 2. The e-mail address is confirmed before programme staff see it ------------------


def test_registration_is_unconfirmed_until_the_emailed_link_is_opened(app, client, caplog):
    caplog.set_level(logging.INFO)
    create_staff(app)
    staff = app.test_client()
    login(staff, "staff@example.cl")
    page = register(client, "new@example.cl").get_data(as_text=True)
    assert status_of(app, "new@example.cl") == "unconfirmed"
    assert "/confirm" not in page and "token=" not in page  # the link is never in the page
    assert "Gremio Nuevo" not in staff.get("/es/admin/").get_data(as_text=True)
    refused = login(client, "new@example.cl")
    assert refused.status_code == 422 and "/confirm" not in refused.get_data(as_text=True)
    # Without SMTP the operator finds the link in the log.
    path = logged_link(app, caplog)
    opened = client.get(path)
    assert opened.status_code == 200
    assert status_of(app, "new@example.cl") == "unconfirmed"  # GET changes nothing
    confirmed = client.post(path, data={"csrf_token": csrf_token_of(client, path)})
    assert confirmed.status_code == 200
    assert status_of(app, "new@example.cl") == "pending"
    assert "Gremio Nuevo" in staff.get("/es/admin/").get_data(as_text=True)


def test_registration_page_is_the_same_for_known_and_unknown_emails(app, client):
    create_association(app, "Conocida", "known@example.cl")
    known = register(client, "known@example.cl")
    unknown = register(client, "unknown@example.cl")
    assert known.status_code == unknown.status_code == 200
    assert without_csrf(known.get_data(as_text=True)) == without_csrf(
        unknown.get_data(as_text=True)
    )


def test_known_email_gets_a_notice_and_an_unconfirmed_one_a_new_link(make_app, smtp):
    app = make_app(SMTP_HOST="smtp.example.cl")
    client = app.test_client()
    create_association(app, "Conocida", "known@example.cl")
    register(client, "known@example.cl", name="Impostor")
    register(client, "new@example.cl", name="Primero")
    register(client, "new@example.cl", name="Segundo", password="another long passphrase here")
    drain(app, smtp)
    notice, first, second = smtp.sent
    assert notice["To"] == "known@example.cl" and "token=" not in body(notice)
    assert "Impostor" not in body(notice)  # typed text is never mailed to someone else
    links = [LINK.search(body(m)).group(1) for m in (first, second)]
    # The newest registration wins; the first link no longer works.
    assert client.get(links[0]).status_code == 404
    path = links[1]
    client.post(path, data={"csrf_token": csrf_token_of(client, path)})
    with app.app_context():
        user = auth.find_user("new@example.cl")
        assert user.association.status == "pending" and user.association.name == "Segundo"
    with app.app_context():
        assert auth.find_user("known@example.cl").association.name == "Conocida"


def test_confirmation_link_expires(app, client, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    register(client, "new@example.cl")
    path = logged_link(app, caplog)
    later = time.time() + auth.CONFIRM_MAX_AGE + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get(path).status_code == 404
    assert client.get(path.split("?")[0] + "?token=forged").status_code == 404


def test_staff_cannot_approve_an_unconfirmed_association(app, client):
    register(client, "new@example.cl")
    create_staff(app)
    staff = app.test_client()
    login(staff, "staff@example.cl")
    with app.app_context():
        association_id = db.session.scalar(sa.select(Association.id))
    response = staff.post(
        f"/es/admin/associations/{association_id}/approve",
        data={"csrf_token": csrf_token_of(staff, "/es/admin/")},
    )
    assert response.status_code == 404
    assert status_of(app, "new@example.cl") == "unconfirmed"


# --- 3. Common passwords are refused ----------------------------------------------------

COMMON = ["password1234", "qwertyuiopas", "123qweasdzxc", "iloveyou1234", "aaaaaaaaaaaaaaa"]
ADVICE = "Choose a less common password: a few unrelated words work well."


@pytest.mark.parametrize("password", COMMON)
def test_registration_refuses_common_passwords(app, client, password):
    response = register(client, "new@example.cl", password=password, lang="en")
    assert response.status_code == 422
    assert ADVICE in response.get_data(as_text=True)
    with app.app_context():
        assert auth.find_user("new@example.cl") is None


def test_registration_refuses_a_password_made_of_the_email(app, client):
    response = register(client, "gremio.norte@example.cl", password="gremio.norte2024", lang="en")
    assert response.status_code == 422 and ADVICE in response.get_data(as_text=True)


def test_new_password_refuses_common_passwords(app, client):
    create_association(app, "A", "a@example.cl")
    request_reset(client, "a@example.cl")
    assert outbox(app).wait_idle(timeout=10)
    with app.app_context():
        link = db.session.scalar(sa.select(PasswordReset.link))
    path = link.split("localhost", 1)[1].replace("/es/", "/en/", 1)
    form = {"csrf_token": csrf_token_of(client, path), "password": "password1234"}
    response = client.post(path, data=form | {"confirm": "password1234"})
    assert ADVICE in response.get_data(as_text=True)
    assert login(client, "a@example.cl").status_code == 302  # the old password still works


@pytest.mark.parametrize("command", ["associations", "users"])
def test_cli_refuses_common_passwords(app, command):
    args = (
        ["associations", "create", "--name", "X"]
        if command == "associations"
        else ["users", "create-admin"]
    )
    result = app.test_cli_runner().invoke(
        args=[*args, "--email", "x@example.cl", "--password", "password1234"]
    )
    assert result.exit_code == 2 and "less common" in result.output
    with app.app_context():
        assert auth.find_user("x@example.cl") is None
