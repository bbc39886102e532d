"""Trade associations: accounts, campaigns, privacy threshold, consent, exports."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Assessment
from app.models import PasswordReset
from app.models import User
from tests.support.accounts import PASSWORD
from tests.support.accounts import add_members
from tests.support.accounts import confirm_email
from tests.support.accounts import create_association
from tests.support.accounts import create_staff
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import MINI_PROFILE
from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor
from tests.support.visitor import best


@pytest.fixture
def gremio(app, client):
    create_association(app, "Cámara de Comercio del Norte", "norte@example.cl")
    assert login(client, "norte@example.cl").status_code == 302
    return new_campaign(client)


def test_cli_create_and_list(app):
    create_association(app, "Asociación Sur", "sur@example.cl")
    output = app.test_cli_runner().invoke(args=["associations", "list"]).output
    assert "approved\tAsociación Sur\tsur@example.cl" in output


def test_cli_refuses_a_short_password_and_duplicates(app):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=[
            "associations",
            "create",
            "--name",
            "X",
            "--email",
            "x@example.cl",
            "--password",
            "corta",
        ]
    )
    assert short.exit_code == 2
    create_association(app, "X", "x@example.cl")
    again = runner.invoke(
        args=["users", "create-admin", "--email", "x@example.cl", "--password", PASSWORD]
    )
    assert again.exit_code == 2 and "already exists" in again.output


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_registration_waits_for_approval(app, client, lang):
    token = csrf_token_of(client, f"/{lang}/associations/register")
    response = client.post(
        f"/{lang}/associations/register",
        data={
            "csrf_token": token,
            "name": "Gremio Nuevo",
            "email": "nuevo@example.cl",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert confirm_email(app, client, "nuevo@example.cl", lang=lang).status_code == 200
    refused = login(client, "nuevo@example.cl", lang=lang)
    assert refused.status_code == 422  # pending: no session
    assert client.get(f"/{lang}/associations/").status_code == 302
    # Programme staff approve it.
    create_staff(app)
    staff = app.test_client()
    assert (
        login(staff, "staff@example.cl", lang=lang).headers["Location"].endswith(f"/{lang}/admin/")
    )
    page = staff.get(f"/{lang}/admin/").get_data(as_text=True)
    assert "Gremio Nuevo" in page
    association_id = re.search(r"/admin/associations/(\d+)/approve", page).group(1)
    token = csrf_token_of(staff, f"/{lang}/admin/")
    staff.post(f"/{lang}/admin/associations/{association_id}/approve", data={"csrf_token": token})
    assert login(client, "nuevo@example.cl", lang=lang).status_code == 302


def test_same_answer_for_unknown_email_and_wrong_password(app, client):
    create_association(app, "A", "a@example.cl")
    unknown = login(client, "nobody@example.cl", "whatever password")
    wrong = login(client, "a@example.cl", "wrong password here")
    assert unknown.status_code == wrong.status_code == 422

    def message(response):
        return re.findall(r'class="error-message"[^>]*>(.*?)</p>', response.get_data(as_text=True))

    assert message(unknown) == message(wrong) != []


def test_login_is_rate_limited_per_account(app, client):
    create_association(app, "A", "a@example.cl")
    for _ in range(5):
        assert login(client, "a@example.cl", "wrong password here").status_code == 422
    blocked = login(client, "a@example.cl")  # even with the right password
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"]


@pytest.mark.parametrize(
    "path",
    ["/es/associations/", "/es/associations/campaigns/new", "/es/associations/campaigns/1",
     "/es/associations/campaigns/1/export.csv", "/es/associations/campaigns/1/export.xlsx",
     "/es/associations/campaigns/1/flyer",
     "/es/admin/"],
)  # fmt: skip
def test_anonymous_visitors_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/es/associations/login" in response.headers["Location"]


def test_another_association_gets_404_for_a_campaign(app, client, gremio):
    create_association(app, "Otro", "otro@example.cl")
    other = app.test_client()
    login(other, "otro@example.cl")
    for suffix in ("", "/export.csv", "/export.xlsx", "/flyer"):
        assert other.get(f"/es/associations/campaigns/{gremio}{suffix}").status_code == 404
    token = csrf_token_of(other, "/es/associations/")
    assert (
        other.post(
            f"/es/associations/campaigns/{gremio}/close", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert other.get("/es/associations/campaigns/999999").status_code == 404


def test_association_cannot_open_admin_pages(client, gremio):
    assert client.get("/es/admin/").status_code == 403


ONE_MORE_NEEDED = {"es": "Falta 1 socia más.", "ht": "Manke 1 manm ankò."}


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_aggregates_appear_only_from_five_completed(app, client, gremio, lang):
    add_members(app, gremio, 4)
    page = client.get(f"/{lang}/associations/campaigns/{gremio}").get_data(as_text=True)
    assert 'id="aggregates"' not in page
    assert 'id="threshold"' in page and ONE_MORE_NEEDED[lang] in page
    add_members(app, gremio, 1)
    page = client.get(f"/{lang}/associations/campaigns/{gremio}").get_data(as_text=True)
    assert 'id="aggregates"' in page
    assert "100" in page


def test_dashboard_figures(app, client, gremio):
    add_members(app, gremio, 3, answers="best")
    add_members(app, gremio, 3, answers="worst")
    page = client.get(f"/es/associations/campaigns/{gremio}").get_data(as_text=True)
    aggregates = page.split('id="aggregates"')[1]
    # The release was made at the fifth result (100, 100, 100, 0, 0): the sixth waits.
    figures = '<td data-label="Promedio">60%</td><td data-label="Mediana">100%</td>'
    assert f'<th scope="row">Resultado general</th>{figures}' in aggregates
    for area in ("Gestión", "Relación con el entorno"):  # each scored area has its row
        assert f'<tr><th scope="row">{area}</th>{figures}' in aggregates, area
    assert "Cumplimiento legal básico" not in aggregates  # the legal block is not scored


def test_only_consenting_members_are_named(app, client, gremio):
    add_members(app, gremio, 5, named=False, name="Secreta")
    add_members(app, gremio, 1, named=True, name="Pública")
    page = client.get(f"/es/associations/campaigns/{gremio}").get_data(as_text=True)
    assert "Pública 0" in page
    assert "Secreta" not in page
    export = client.get(f"/es/associations/campaigns/{gremio}/export.csv").get_data(as_text=True)
    assert "Pública 0" in export and "Secreta" not in export


def test_csv_export_is_utf8_with_bom_and_neutralises_formulas(app, client, gremio):
    add_members(app, gremio, 5, named=True, name='=HYPERLINK("http://evil")')
    add_members(app, gremio, 1, named=True, name="-2+3 Ñandú Kreyòl")
    response = client.get(f"/es/associations/campaigns/{gremio}/export.csv")
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    named = rows[1:7]  # six named members by name; the release's figures follow
    names = [row[0] for row in named]
    assert names[0] == "'-2+3 Ñandú Kreyòl 0"
    assert all(name.startswith("'=HYPERLINK") for name in names[1:])
    assert [row[2] for row in named] == ["100"] * 6  # plain numbers stay numbers


def test_export_below_threshold_holds_no_anonymous_rows(app, client, gremio):
    add_members(app, gremio, 3, named=False)
    add_members(app, gremio, 1, named=True, name="Abierta")
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/es/associations/campaigns/{gremio}/export.csv")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    assert [row[0] for row in rows[1:]] == ["Abierta 0"]


@pytest.mark.parametrize("lang", ["es", "ht"])
def test_member_joins_with_consent_and_can_change_it(app, client, gremio, lang):
    code = invitation_code(client, gremio)
    assert len(code) >= 22  # at least 128 random bits
    member = Visitor(app.test_client(), lang)
    member.get(f"/{lang}/c/{code}")
    assert "Estimados socios" in member.page
    assert 'value="aggregate" checked' in member.page  # anonymous aggregates by default
    member.submit({"member_name": "Panadería Sol"})
    assert member.url.endswith("/s/profile")
    with app.app_context():
        assessment = db.session.scalar(sa.select(Assessment))
        assert (assessment.campaign_id, assessment.share_named) == (gremio, False)
    member.get(f"/{lang}/a/{member.token}/sharing")
    member.submit({"member_name": "Panadería Sol", "sharing": "named"})
    with app.app_context():
        assert db.session.scalar(sa.select(Assessment.share_named)) is True


def test_closed_campaign_starts_nothing(app, client, gremio):
    code = invitation_code(client, gremio)
    client.post(
        f"/es/associations/campaigns/{gremio}/close",
        data={"csrf_token": csrf_token_of(client, "/es/associations/")},
    )
    member = app.test_client()
    assert member.get(f"/es/c/{code}").status_code == 410
    assert member.get("/es/c/not-a-real-code").status_code == 404


def test_member_results_show_rounded_medians_of_five_other_members(app, client, gremio):
    add_members(app, gremio, 5, answers="worst")  # a release of five
    code = invitation_code(client, gremio)
    member = Visitor(app.test_client())
    member.get(f"/es/c/{code}")
    member.submit({})
    member.submit(MINI_PROFILE)
    member.answer_all(best)
    member.submit()
    # The release holds five members; with this one's own, a median could be undone.
    assert "Mediana de las socias de su gremio" not in member.page
    add_members(app, gremio, 6, answers="best")  # seven new results: a new release of 12
    member.get(member.url)
    assert "Mediana de las socias de su gremio" in member.page
    overall = re.search(r'<tr class="total">.*?</tr>', member.page, re.S).group(0)
    medians = [int(m) for m in re.findall(r"<td[^>]*>(\d+)\s*%</td>", overall)][1:2]
    assert medians and all(m % 5 == 0 for m in medians), overall


def test_member_medians_follow_the_release_in_force_even_under_a_reused_id(app, gremio):
    """The medians are kept per worker by release; SQLite gives the id of a deleted last
    row again, so a release made after a deletion must not be served the old figures."""
    from types import SimpleNamespace

    from app.models import Release
    from app.reporting.aggregates import release_in_force
    from app.reporting.benchmark import campaign_benchmark

    def medians():
        """What a member's results page shows (store.find's row reads the release)."""
        release = release_in_force(gremio)
        member = SimpleNamespace(
            campaign_id=gremio, release_id=release.id, release_created_at=release.created_at
        )
        return campaign_benchmark(member)

    add_members(app, gremio, 12, answers="best")
    with app.test_request_context():
        shown = medians()
        ours = sa.select(Release).where(Release.campaign_id == gremio)
        old = db.session.scalars(ours.order_by(Release.id.desc())).first()  # in force
        figures = dict(old.figures, overall_median=(shown["overall"] + 40) % 100)
        replaced = Release(id=old.id, campaign_id=gremio, members=old.members, figures=figures)
        db.session.delete(old)
        db.session.flush()
        db.session.add(replaced)
        db.session.commit()
        assert medians()["overall"] == (shown["overall"] + 40) % 100


def test_logout_revokes_a_copied_session_cookie(app, client):
    create_association(app, "A", "a@example.cl")
    login(client, "a@example.cl")
    copied = client.get_cookie("session").value
    token = csrf_token_of(client, "/es/associations/")
    client.post("/es/associations/logout", data={"csrf_token": token})
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/es/associations/").status_code == 302


def test_password_reset_link_works_once_and_ends_old_sessions(app, client):
    create_association(app, "A", "a@example.cl")
    old = app.test_client()
    login(old, "a@example.cl")
    token = csrf_token_of(client, "/es/associations/reset")
    client.post("/es/associations/reset", data={"csrf_token": token, "email": "a@example.cl"})
    client.post("/es/associations/reset", data={"csrf_token": token, "email": "nobody@example.cl"})
    assert app.extensions["outbox"].wait_idle(timeout=10)  # the e-mail queue keeps the link
    with app.app_context():
        links = db.session.scalars(sa.select(PasswordReset.link)).all()
    assert len(links) == 1  # visible to programme staff, as no SMTP is configured
    path = links[0].split("localhost", 1)[1]
    new_password = "a brand new passphrase"
    form = {
        "csrf_token": csrf_token_of(client, path),
        "password": new_password,
        "confirm": new_password,
    }
    assert client.post(path, data=form).status_code == 302
    assert client.get(path).status_code == 404  # used once
    assert old.get("/es/associations/").status_code == 302  # the old session ended
    assert login(client, "a@example.cl", new_password).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.session_epoch)) == 1


def test_flyer_has_a_qr_code_in_spanish_and_creole(client, gremio):
    page = client.get(f"/es/associations/campaigns/{gremio}/flyer").get_data(as_text=True)
    assert "<svg" in page and "<path" in page
    assert 'lang="es"' in page and 'lang="ht"' in page


# `when: p_dotacion_total > 25` (legal_proporcion_85 of the fixture questionnaire)
WRITTEN_OUT = {
    "es": "Responda solo si su respuesta a “¿Cuántas personas trabajan en su organización?” "
    "es mayor que 25.",
    "ht": "Reponn sèlman si repons ou pou “Konbyen moun ki travay nan òganizasyon ou a?” "
    "pi gwo pase 25.",
    "en": "Answer only if your answer to “How many people work in your organisation?” "
    "is more than 25.",
}


@pytest.mark.parametrize("lang", ["es", "ht", "en"])
def test_paper_questionnaire_writes_conditions_out(client, lang):
    page = client.get(f"/{lang}/questionnaire").get_data(as_text=True)
    assert page.count('class="condition"') == 5  # the fixture's five questions with `when:`
    assert f'<p class="condition">{WRITTEN_OUT[lang]}</p>' in page
    assert "p_dotacion_total >" not in page
    assert "p_tipo_organizacion ==" not in page


def test_national_overview_respects_the_threshold(app, client, gremio):
    add_members(app, gremio, 4)
    create_staff(app)
    staff = app.test_client()
    login(staff, "staff@example.cl")
    page = staff.get("/es/admin/").get_data(as_text=True)
    region = '<tr><th scope="row">Región Metropolitana de Santiago</th>'
    assert region not in page  # no release before five organisations
    cell = "<td[^>]*>{}</td>"  # the cells of a stacked table carry their column's label
    assert re.search('<tr><th scope="row">mini</th>' + cell.format(1) + cell.format(4) * 2, page)
    assert "100%" not in page
    add_members(app, gremio, 1)
    page = staff.get("/es/admin/").get_data(as_text=True)
    assert re.search(region + cell.format(5) + cell.format("100%") + "</tr>", page)
    assert "Puntaje general promedio: 100%." in page
