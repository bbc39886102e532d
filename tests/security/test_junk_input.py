"""T18 (docs/SECURITY.md, and 2.7 item 11): generated junk in every field of every form never
gives a 5xx, and never puts a secret link in the log.

The forms are read from the pages themselves (tests/support/pages.py), so a field added
to a form is attacked without changing this file: the profile form, each step of the
questionnaire with its calculator fields (`calc-*`), the review, sharing, reassessment
and deletion forms, the campaign invitation, login, registration, password reset, the
e-mail confirmation, the campaign form and its close button, and the staff approval.
Junk: other scripts' digits ('①', '٣', fullwidth), numbers beyond any range, odd
dates, very long strings, NUL, several values where one is expected, unknown fields.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Association
from tests.support.accounts import create_association
from tests.support.accounts import create_staff
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import SHIPPED
from tests.support.pages import Page
from tests.support.visitor import Visitor
from tests.support.visitor import best

UNLIMITED = "100000 per minute"
LIMITS_LIFTED = {
    "RATELIMIT_ENABLED": False,
    "LOGIN_LIMIT_PER_ADDRESS": UNLIMITED,
    "LOGIN_LIMIT_PER_ACCOUNT": UNLIMITED,
    "TOKEN_MISS_LIMIT": UNLIMITED,
    "NEW_ASSESSMENT_LIMIT_PER_ADDRESS": UNLIMITED,
    "JOIN_LIMIT_PER_ADDRESS": UNLIMITED,
    "PDF_LIMIT_PER_ADDRESS": UNLIMITED,
}
OTHER_DIGITS = ["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "߀߁߂߃߄߅߆߇߈߉", "০১২৩৪৫৬৭৮৯", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"]
NUMBERS = [
    "①", "²", "Ⅻ", "¼", "1٣", "٣1", "1e309", "-0", "+5", " 5 ", "5.0", "0x10", "NaN", "inf",
    "1_000", "1,5", "1.000.000", "0" * 50 + "1", "9" * 4301, "",
]  # fmt: skip
OTHER_JUNK = [
    # dates that are no date, or beyond any calendar
    "2026-02-30", "9999-12-31", "0001-01-01", "10000-01-01", "2026-13-01", "２０２６-０１-０１",
    # answers and actions that exist somewhere, or almost
    "si", "no", "na", "dont_know", "next", "back", "calculate", "submit", "named", "totals",
    "empresa", "ninguna", "True", "null", "[]", "{}", "<script>", "a@b", "@", "x" * 300 + "@x.cl",
    # control characters, markup
    "\x00", "a\x00b", "\r\n", "\u202e", "\ufeff", "\x1b[31m", "%00", "%FF",
]  # fmt: skip


def in_other_digits(number: int, digits: str) -> str:
    return str(number).translate(str.maketrans("0123456789", digits))


# numbers of every size (a float holds about 308 digits), in other scripts' digits, odd
numbers = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.builds(in_other_digits, st.integers(0, 10**9), st.sampled_from(OTHER_DIGITS)),
    st.sampled_from(NUMBERS),
)
junk_text = st.one_of(
    numbers,
    st.sampled_from(OTHER_JUNK),
    st.text(max_size=40),
    st.sampled_from(["x" * 20_000, "é" * 5_000]),
)
# one value, or several where the form has one (a list the server must not trust)
junk_value = st.one_of(junk_text, st.lists(junk_text, min_size=2, max_size=3))
UNKNOWN_FIELDS = ["unknown", "calc-unknown", "was-unknown", "p_unknown", "x" * 200, "action"]
SECRET_SEGMENT = re.compile(r"/(?:a|c|reset)/(?!new\b)(?!…)[A-Za-z0-9_.=-]{12,}")


@dataclass
class Target:
    """One form: who posts it, where, and its fields with the page's own values."""

    client: object
    url: str
    values: dict = field(default_factory=dict)


def forms_on(client, url) -> list[Target]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    targets = []
    for form in Page(response.get_data(as_text=True)).forms:
        if form.attributes.get("method", "get").lower() != "post":
            continue
        if "logout" in (form.attributes.get("action") or ""):
            continue  # ends the session every other form of this client needs
        values = {name: form.value(name) for name, _ in form.fields}
        values |= {name: form.options[name][0] for name in form.options if name not in values}
        targets.append(Target(client, form.attributes.get("action") or url, values))
    assert targets, url
    return targets


@dataclass
class World:
    targets: list
    secrets: set


def junk_world(app) -> World:
    """Every form of the app, each on an assessment of its own where posting it changes
    what the next post sees (submitting, deleting)."""
    create_association(app, "Gremio A", "a@example.cl")
    create_staff(app)
    association = app.test_client()
    login(association, "a@example.cl")
    campaign_id = new_campaign(association)
    code = invitation_code(association, campaign_id)
    # a registration waiting for staff (its approval form shows), one for its e-mail
    for name, email, status in (("Gremio B", "b@example.cl", "pending"),
                                ("Gremio C", "c@example.cl", "unconfirmed")):  # fmt: skip
        create_association(app, name, email)
        with app.app_context():
            db.session.execute(
                sa.update(Association).where(Association.name == name).values(status=status)
            )
            db.session.commit()
    staff = app.test_client()
    login(staff, "staff@example.cl")

    secrets = {code}
    anonymous = app.test_client()
    targets = forms_on(anonymous, "/es/a/new")
    steps = Visitor(app.test_client())
    steps.start()
    secrets.add(steps.token)
    for section in steps.questionnaire.sections:
        targets += forms_on(steps.client, f"/es/a/{steps.token}/s/{section.id}")
    review, delete = Visitor(app.test_client()), Visitor(app.test_client())
    for visitor in (review, delete):
        visitor.start()
        visitor.answer_all(best)
        secrets.add(visitor.token)
    targets += forms_on(review.client, f"/es/a/{review.token}/review")
    targets += forms_on(delete.client, f"/es/a/{delete.token}/delete")
    member = Visitor(app.test_client())  # in the campaign, submitted: sharing and reassess
    member.get(f"/es/c/{code}")
    member.submit({"member_name": "Socio"})
    member.start() if "/a/new" in member.url else None
    member.answer_all(best)
    member.submit()
    secrets.add(member.token)
    targets += forms_on(member.client, f"/es/a/{member.token}/results")
    targets += forms_on(member.client, f"/es/a/{member.token}/sharing")
    targets += forms_on(app.test_client(), f"/es/c/{code}")
    for page in ("login", "register", "reset"):
        targets += forms_on(app.test_client(), f"/es/associations/{page}")
    with app.test_request_context():
        from app.accounts import auth

        reset = auth.reset_link(auth.find_user("a@example.cl")).rsplit("/", 1)[1]
        confirm = None
        if hasattr(auth, "confirmation_link"):
            confirm = auth.confirmation_link(auth.find_user("c@example.cl")).split("?", 1)[1]
    secrets.add(reset)
    targets += forms_on(app.test_client(), f"/es/associations/reset/{reset}")
    if confirm:
        secrets.add(confirm.split("=", 1)[1])
        targets += forms_on(app.test_client(), f"/es/associations/confirm?{confirm}")
    targets += forms_on(association, "/es/associations/campaigns/new")
    targets += forms_on(association, f"/es/associations/campaigns/{campaign_id}")
    targets += forms_on(staff, "/es/admin/")
    return World(targets, secrets)


@st.composite
def junk_posts(draw, targets):
    target = draw(st.sampled_from(targets), label="form")
    names = sorted(set(target.values) | {"action"}) + draw(
        st.lists(st.sampled_from(UNKNOWN_FIELDS), max_size=2, unique=True), label="unknown"
    )
    form = {}
    for name in names:
        if name == "csrf_token":
            form[name] = target.values[name]  # a valid token: the junk reaches the form
            continue
        kind = draw(st.sampled_from(["junk", "junk", "page", "absent"]), label=name)
        if kind == "junk":
            form[name] = draw(junk_value, label=name)
        elif kind == "page" and target.values.get(name) is not None:
            form[name] = target.values[name]
    return target, form


def post_junk(caplog, world, target, form):
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = target.client.post(target.url, data=form)
    assert response.status_code < 500, (target.url, form, response.status_code)
    logged = caplog.text + "\n".join(str(vars(record)) for record in caplog.records)
    assert not [secret for secret in world.secrets if secret in logged], target.url
    assert not SECRET_SEGMENT.search(logged), SECRET_SEGMENT.search(logged).group(0)


JUNK_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def test_junk_in_every_field_of_every_form_is_never_a_500(make_app, caplog):
    app = make_app(**LIMITS_LIFTED)
    world = junk_world(app)
    assert len(world.targets) >= 18

    @settings(JUNK_SETTINGS, max_examples=300)
    @given(post=junk_posts(world.targets))
    def attack(post):
        post_junk(caplog, world, *post)

    attack()


def test_junk_in_the_shipped_questionnaire_steps_is_never_a_500(make_app, caplog):
    """One round on the shipped questionnaire: its profile and every step."""
    app = make_app(**LIMITS_LIFTED | SHIPPED)
    visitor = Visitor(app.test_client())
    visitor.start()
    targets = forms_on(app.test_client(), "/es/a/new")
    for section in visitor.questionnaire.sections:
        targets += forms_on(visitor.client, f"/es/a/{visitor.token}/s/{section.id}")
    world = World(targets, {visitor.token})

    @settings(JUNK_SETTINGS, max_examples=60)
    @given(post=junk_posts(world.targets))
    def attack(post):
        post_junk(caplog, world, *post)

    attack()
