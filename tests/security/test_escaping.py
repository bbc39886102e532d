"""T1, T2: hostile text in every field, from users and from questionnaire files."""

from __future__ import annotations

import re

import pytest

from tests.conftest import readme_example
from tests.support.accounts import PASSWORD
from tests.support.accounts import add_members
from tests.support.accounts import confirm_email
from tests.support.accounts import create_staff
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def assert_escaped(page: str, where: str):
    assert "<script>alert(1)" not in page, where
    assert "<img src=x" not in page, where
    assert ESCAPED in page, where


def test_hostile_text_in_every_user_field_is_escaped_everywhere(app, client):
    # An association registers with a hostile name and is approved.
    token = csrf_token_of(client, "/es/associations/register")
    client.post(
        "/es/associations/register",
        data={"csrf_token": token, "name": PAYLOAD, "email": "x@example.cl",
              "password": PASSWORD, "confirm": PASSWORD},
    )  # fmt: skip
    confirm_email(app, client, "x@example.cl")
    create_staff(app)
    staff = app.test_client()
    login(staff, "staff@example.cl")
    assert_escaped(staff.get("/es/admin/").get_data(as_text=True), "admin page")
    page = staff.get("/es/admin/").get_data(as_text=True)
    association_id = re.search(r"/admin/associations/(\d+)/approve", page).group(1)
    staff.post(
        f"/es/admin/associations/{association_id}/approve",
        data={"csrf_token": csrf_token_of(staff, "/es/admin/")},
    )
    login(client, "x@example.cl")
    # Its campaign has a hostile name and message.
    token = csrf_token_of(client, "/es/associations/campaigns/new")
    response = client.post(
        "/es/associations/campaigns/new",
        data={
            "csrf_token": token,
            "name": PAYLOAD,
            "version": "mini:1",
            "message": PAYLOAD,
        },
    )
    campaign = response.headers["Location"]
    dashboard = client.get(campaign).get_data(as_text=True)
    assert_escaped(dashboard, "dashboard")
    assert_escaped(client.get(campaign + "/flyer").get_data(as_text=True), "flyer")
    assert_escaped(client.get("/es/associations/").get_data(as_text=True), "campaign list")
    campaign_id = int(campaign.rsplit("/", 1)[1])
    code = invitation_code(client, campaign_id)
    # A member joins with a hostile name and shares it.
    member = Visitor(app.test_client())
    member.get(f"/es/c/{code}")
    assert_escaped(member.page, "join page")
    member.submit({"member_name": PAYLOAD, "sharing": "named"})
    add_members(app, campaign_id, 1, named=True, name=PAYLOAD)
    assert_escaped(client.get(campaign).get_data(as_text=True), "dashboard with members")
    member.get(f"/es/a/{member.token}/sharing")
    assert_escaped(member.page, "sharing page")
    export = client.get(campaign + "/export.csv").get_data(as_text=True)
    assert "\n<script>" not in export and ",<script>" not in export


TEXT_KEYS = {"title", "intro", "disclaimer", "text", "help", "label", "source", "evidence",
             "description", "next_steps", "unit"}  # fmt: skip


def poison(node):
    """Append markup to every translatable text of a parsed questionnaire."""
    if isinstance(node, dict):
        return {
            k: (f"{v} {PAYLOAD} <b onmouseover=alert(1)>x</b> [x](javascript:alert(1))"
                if k in TEXT_KEYS and isinstance(v, str) else poison(v))
            for k, v in node.items()
        }  # fmt: skip
    if isinstance(node, list):
        return [poison(item) for item in node]
    return node


@pytest.fixture
def hostile_questionnaire(tmp_path):
    import yaml

    data = poison(yaml.load(readme_example(), Loader=yaml.BaseLoader))  # values stay strings
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    # BaseLoader read numbers and booleans as text: restore the ones the format needs.
    text = re.sub(r"'(\d+(?:\.\d+)?)'", r"\1", text)
    text = re.sub(r"'(true|false)'", r"\1", text)
    directory = tmp_path / "q" / "ejemplo"
    directory.mkdir(parents=True)
    (directory / "v1.yaml").write_text(text, encoding="utf-8")
    return directory.parent


def test_markup_in_questionnaire_text_is_escaped(make_app, hostile_questionnaire):
    app = make_app(QUESTIONNAIRES_DIR=str(hostile_questionnaire), QUESTIONNAIRE="ejemplo")
    client = app.test_client()
    for lang in ("es", "ht", "en"):
        for path in (f"/{lang}/", f"/{lang}/a/new", f"/{lang}/questionnaire"):
            page = client.get(path).get_data(as_text=True)
            assert "<script>alert" not in page, path
            assert "<img src=x" not in page, path
            assert "<b onmouseover" not in page, path
            assert 'href="javascript:' not in page, path
