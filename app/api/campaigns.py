"""An association's campaigns, opened by one of its API keys: exactly what its
dashboard and CSV show, from the same release (app/reporting/aggregates.py). Figures
only from a release (five members or more), counts of one or two as "<3", and rows
only for members who chose to be named: a "totals only" member is never a row, a date
or a figure of its own (docs/SECURITY.md T7)."""

from __future__ import annotations

import sqlalchemy as sa

from .. import pinned_questionnaire
from ..extensions import db
from ..i18n import content_for
from ..models import Assessment
from ..models import Campaign
from ..reporting import aggregates
from ..reporting.export import named_members
from . import bp
from . import documented
from . import schemas
from .auth import current_association
from .errors import fail
from .schemas import N_

STATUSES = ("in_place", "partial", "not_in_place")


def whole(value: float | None) -> int | None:
    """A mean or a median as the dashboard and the CSV show it: a whole number."""
    return None if value is None else round(value)


def summary(campaign: Campaign) -> dict:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "questionnaire": campaign.questionnaire_id,
        "version": campaign.questionnaire_version,
        "open": campaign.is_open,
        "closes_on": campaign.closes_on,
        "created_at": campaign.created_at,
        "participation": aggregates.participation(Assessment.campaign_id == campaign.id),
    }


def release_figures(release, questionnaire, content) -> dict:
    """The figures the dashboard draws from a release, in the same words."""
    figures = release.summary
    texts = {a.id: content(a) for q in questionnaire.questions for a in q.actions}
    fields = questionnaire.fields
    return {
        "created_at": release.created_at,
        "members": release.members,
        "overall": {
            "mean": whole(figures.overall_mean),
            "median": whole(figures.overall_median),
        },
        "areas": [
            {
                "id": area.id,
                "title": content(area, "title"),
                "mean": whole(figures.dimensions[area.id][0]),
                "median": whole(figures.dimensions[area.id][1]),
            }
            for area in questionnaire.dimensions
            if not area.legal and area.id in figures.dimensions
        ],
        "commitments": [
            {"id": c.id, "title": content(c, "title")}
            | {status: figures.commitments.get(c.id, {}).get(status, 0) for status in STATUSES}
            for c in questionnaire.commitments
        ],
        "levels": [
            {
                "id": level.id,
                "title": content(level, "title"),
                "members": figures.levels.get(level.id, 0),
            }
            for level in questionnaire.levels
        ],
        "must_haves_pending": [
            {"id": qid, "title": content(fields[qid]) if qid in fields else qid, "members": n}
            for qid, n in figures.knockouts
        ],
        "actions": [
            {"id": aid, "title": texts.get(aid, aid), "members": n} for aid, n in figures.actions
        ],
    }


def own_campaign(association, campaign_id: int) -> Campaign:
    """Another association's campaign is a 404, exactly like one that does not exist."""
    campaign = Campaign.owned_by(association.id, campaign_id)
    if campaign is None:
        fail(404)
    return campaign


@bp.route("/campaigns")
@documented(
    401,
    key=True,
    summary=N_("List your campaigns"),
    description=N_("The campaigns of the association the API key belongs to, newest first."),
)
@bp.response(200, schemas.CampaignSummary(many=True))
def list_campaigns():
    association = current_association()
    campaigns = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.association_id == association.id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )
    return [summary(c) for c in campaigns]


@bp.route("/campaigns/<int:campaign_id>")
@documented(
    401,
    404,
    key=True,
    summary=N_("Read a campaign's figures"),
    description=N_(
        "What the campaign's dashboard shows: participation, the release in force "
        '(released in cohorts of at least 5 members, counts of one or two as "<3") and '
        "the members who chose to share their named result. Never a row of a member "
        "who chose totals only."
    ),
)
@bp.response(200, schemas.CampaignFigures)
def campaign_figures(campaign_id):
    campaign = own_campaign(current_association(), campaign_id)
    questionnaire = pinned_questionnaire(campaign)
    content = content_for(questionnaire)
    data = summary(campaign)
    release = aggregates.latest_release(campaign.id)
    return data | {
        "members_needed": data["participation"].members_needed,
        "release": None if release is None else release_figures(release, questionnaire, content),
        "named_members": [
            {"name": name, "overall": overall, "level": level, "submitted_on": submitted.date()}
            for name, overall, level, submitted in named_members(campaign.id, None)
        ],
    }
