"""A campaign beside the association's earlier campaigns on the same questionnaire
version: released figures only, never live ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign
from .aggregates import latest_release


@dataclass
class CampaignFigures:
    """The averages a campaign's release in force published."""

    campaign: Campaign
    members: int
    released: datetime
    overall: float | None
    dimensions: dict  # area id -> average

    def average(self, area_id: str | None) -> int | None:
        """The rounded average, overall (None) or of an area, as the dashboard shows it."""
        value = self.overall if area_id is None else self.dimensions.get(area_id)
        return None if value is None else round(value)

    def change_row(self, earlier: CampaignFigures, area_id: str | None) -> list:
        """[this average, the earlier one, the change in points] ("" where unknown)."""
        now, before = self.average(area_id), earlier.average(area_id)
        change = now - before if now is not None and before is not None else ""
        return ["" if now is None else now, "" if before is None else before, change]


def compared_campaigns(campaign: Campaign) -> list[CampaignFigures]:
    """This campaign, then the association's campaigns created before it on the same
    questionnaire and version that have released figures, newest first. Empty while
    this campaign has no release: there is nothing to compare yet."""
    earlier = db.session.scalars(
        sa.select(Campaign)
        .where(
            Campaign.association_id == campaign.association_id,
            Campaign.questionnaire_id == campaign.questionnaire_id,
            Campaign.questionnaire_version == campaign.questionnaire_version,
            Campaign.id < campaign.id,
        )
        .order_by(Campaign.id.desc())
    )
    compared = []
    for each in (campaign, *earlier):
        release = latest_release(each.id)
        if release is None:
            if each is campaign:
                return []
            continue
        summary = release.summary
        dimensions = {area: stats[0] for area, stats in summary.dimensions.items()}
        compared.append(
            CampaignFigures(
                each, release.members, release.created_at, summary.overall_mean, dimensions
            )
        )
    return compared
