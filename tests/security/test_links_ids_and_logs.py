"""T20, T18, T21: links built on BASE_URL, ids beyond the database's range, no secret
in a logged exception."""

from __future__ import annotations

import logging
import re

import pytest
import segno
import sqlalchemy as sa
from flask import request
from flask.testing import FlaskClient
from flask_migrate import upgrade
from werkzeug.routing import IntegerConverter

from app import create_app
from app.config import ConfigError
from app.extensions import db
from app.models import PasswordReset
from tests.conftest import TEST_SECRET
from tests.support.accounts import create_association
from tests.support.accounts import create_staff
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import MINI
from tests.support.content import translations_directory
from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor

# --- T18: an id beyond the database's integer range is an unknown page, not a 500

OUT_OF_RANGE = ["2147483648", "99999999999999999999", "9" * 5000, "0", "١", "00000000001"]


def id_routes(app):
    """Every rule with an `<int:...>` part, as (rule, names of its int parts)."""
    routes = []
    for rule in app.url_map.iter_rules():
        names = [n for n, c in rule._converters.items() if isinstance(c, IntegerConverter)]
        if names:
            routes.append((rule, names))
    return routes


@pytest.mark.parametrize("number", OUT_OF_RANGE, ids=lambda n: n[:24])
def test_ids_beyond_the_integer_range_are_404(world, client, number):
    staff = world.app.test_client()
    login(staff, "staff@example.cl")
    routes = id_routes(world.app)
    assert {rule.endpoint for rule, _ in routes} >= {
        "associations.dashboard", "associations.flyer", "associations.close",
        "associations.export", "admin.approve",
    }  # fmt: skip
    for rule, names in routes:
        path = world.url_for_rule(rule)
        for name in names:
            real = str(world.campaign_id if name == "campaign_id" else 1)
            path = path.replace(f"/{real}/", f"/{number}/", 1)
            if path.endswith(f"/{real}"):
                path = path[: -len(real)] + number
        user = staff if rule.endpoint.startswith("admin.") else client
        if "POST" in rule.methods:
            token = csrf_token_of(user, "/es/admin/" if user is staff else "/es/associations/")
            response = user.post(path, data={"csrf_token": token})
        else:
            response = user.get(path)
        assert response.status_code == 404, (path[:80], response.status_code)


def test_ids_in_range_still_work(world, client):
    assert client.get(f"/es/associations/campaigns/{world.campaign_id}").status_code == 200
    assert client.get("/es/associations/campaigns/2147483647").status_code == 404


# --- T20: links in e-mails and on staff and association pages are built on BASE_URL

BASE = "https://autodiagnostico.example.cl"


class HostClient(FlaskClient):
    """A client whose every request names `host` in its Host header (its cookies too)."""

    host = "evil.example"

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", f"http://{self.host}")
        return super().open(*args, **kwargs)


def forged(app, host="evil.example") -> FlaskClient:
    client = HostClient(app, app.response_class, use_cookies=True)
    client.host = host
    return client


def reset_links(app):
    """The reset links waiting for programme staff (SMTP is not configured)."""
    outbox = app.extensions.get("outbox")  # e-mail leaves the request on a thread
    assert outbox is None or outbox.wait_idle(timeout=10)
    with app.app_context():
        return list(db.session.scalars(sa.select(PasswordReset.link)))


def ask_for_a_reset(client):
    token = csrf_token_of(client, "/es/associations/reset")
    response = client.post(
        "/es/associations/reset", data={"csrf_token": token, "email": "a@example.cl"}
    )
    assert response.status_code == 200


def test_a_reset_asked_for_with_a_forged_host_links_to_base_url(make_app):
    app = make_app(BASE_URL=BASE)
    create_association(app, "Gremio A", "a@example.cl")
    ask_for_a_reset(forged(app))
    [link] = reset_links(app)
    assert link.startswith(f"{BASE}/es/associations/reset/"), link
    staff = forged(app)
    create_staff(app)
    login(staff, "staff@example.cl")
    page = staff.get("/es/admin/").get_data(as_text=True)
    assert f'value="{link}"' in page and "evil.example" not in page
    token = link.rsplit("/", 1)[1]  # the link works
    assert app.test_client().get(f"/es/associations/reset/{token}").status_code == 200


def test_invitation_link_and_flyer_qr_code_are_on_base_url(make_app):
    app = make_app(BASE_URL=BASE + "/")
    client = forged(app)
    create_association(app, "Gremio A", "a@example.cl")
    login(client, "a@example.cl")
    campaign_id = new_campaign(client)
    html = client.get(f"/es/associations/campaigns/{campaign_id}").get_data(as_text=True)
    link = re.search(r'id="invitation-link" value="([^"]+)"', html).group(1)
    assert re.fullmatch(rf"{re.escape(BASE)}/c/[A-Za-z0-9_-]+", link), link
    assert "evil.example" not in html
    html = client.get(f"/es/associations/campaigns/{campaign_id}/flyer").get_data(as_text=True)
    written = html.replace("<wbr>", "")  # line breaks between the code's groups
    assert f'<span class="card-link">{link}</span>' in written and "evil.example" not in html
    for lang in ("es", "ht"):  # each QR code encodes its language's link on BASE_URL
        in_lang = link.replace("/c/", f"/{lang}/c/")
        qr = segno.make(in_lang, error="m").svg_inline(omitsize=True, dark="#000", light="#fff")
        assert qr in html, lang


def test_without_base_url_the_embedded_sqlite_links_to_the_requested_host(tmp_path, monkeypatch):
    """`make run` needs no configuration: links follow the address the browser used."""
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    database = tmp_path / "db.sqlite"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "TRANSLATIONS_DIR": translations_directory(),
        }
        | MINI
    )
    with app.app_context():
        upgrade()
    create_association(app, "Gremio A", "a@example.cl")
    ask_for_a_reset(forged(app, "127.0.0.1:8000"))
    [link] = reset_links(app)
    assert link.startswith("http://127.0.0.1:8000/es/associations/reset/"), link
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("settings", "starts"),
    [
        ({}, False),
        ({"BASE_URL": BASE}, True),
        ({"TRUSTED_HOSTS": ["autodiagnostico.example.cl"]}, True),
    ],
)
def test_a_server_database_needs_base_url_or_trusted_hosts(monkeypatch, settings, starts):
    monkeypatch.delenv("BASE_URL", raising=False)
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    config = {
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": "postgresql://u@h:5432/d",
        "TRANSLATIONS_DIR": translations_directory(),
    }
    if starts:
        create_app(config | settings)
        return
    with pytest.raises(ConfigError, match="BASE_URL is not set") as caught:
        create_app(config | settings)
    assert "TRUSTED_HOSTS" in str(caught.value)


@pytest.mark.parametrize(
    "value", ["autodiagnostico.example.cl", "ftp://x.example", "https://", "https://x.example/?a=1"]
)
def test_a_malformed_base_url_refuses_to_start(value):
    with pytest.raises(ConfigError, match="BASE_URL"):
        create_app(
            {"SECRET_KEY": TEST_SECRET, "SQLALCHEMY_DATABASE_URI": "sqlite://", "BASE_URL": value}
        )


# --- T21: an exception on a route that carries a secret is logged with the secret redacted


def secret_routes(app):
    """A URL per kind of secret link, and the module whose render_template its view calls."""
    from app.accounts import views as accounts_views
    from app.assess import views as assess_views
    from app.associations import join

    create_association(app, "Gremio A", "a@example.cl")
    client = app.test_client()
    login(client, "a@example.cl")
    campaign_id = new_campaign(client)
    code = invitation_code(client, campaign_id)
    visitor = Visitor(app.test_client())
    visitor.start()
    with app.test_request_context():
        from app.accounts.auth import find_user
        from app.accounts.auth import reset_link

        reset = reset_link(find_user("a@example.cl")).rsplit("/", 1)[1]
    return [
        (assess_views, visitor.url, visitor.token),  # a step of the assessment
        (join, f"/es/c/{code}", code),
        (accounts_views, f"/es/associations/reset/{reset}", reset),
    ]


def test_an_exception_on_a_secret_link_is_logged_without_the_secret(make_app, monkeypatch, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)  # log and answer 500, as in production
    routes = secret_routes(app)

    def broken(*args, **kwargs):
        raise RuntimeError(f"could not render {request.url}")  # the secret in the error too

    for module, path, secret in routes:
        monkeypatch.setattr(module, "render_template", broken)
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = app.test_client().get(path)
        assert response.status_code == 500
        records = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert records, path
        formatted = caplog.text + "\n".join(
            logging.Formatter().format(r) + str(vars(r)) for r in caplog.records
        )
        assert secret not in formatted, path
        assert "Traceback" in formatted and "RuntimeError: could not render" in formatted
        shape = path.replace(secret, "…")
        assert re.search(re.escape(shape).replace("…", "…[0-9a-f]{8}"), formatted), shape
        monkeypatch.undo()


def test_werkzeug_and_gunicorn_request_lines_are_redacted(app, caplog):
    token = "AbC_123-xyz" * 4
    with caplog.at_level(logging.INFO):
        logging.getLogger("werkzeug").info('"%s" %s', f"GET /es/a/{token}/s/legal HTTP/1.1", 200)
        logging.getLogger("gunicorn.error").error("Error handling request /es/c/%s", token)
    assert token not in caplog.text
    assert re.search(r"/es/a/…[0-9a-f]{8}/s/legal", caplog.text)
    assert re.search(r"/es/c/…[0-9a-f]{8}", caplog.text)
