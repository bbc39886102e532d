"""A small world for security tests: an association with a campaign, programme
staff, an anonymous assessment, and a URL for every route of the app."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.support.accounts import create_association
from tests.support.accounts import create_staff
from tests.support.accounts import invitation_code
from tests.support.accounts import login
from tests.support.accounts import new_campaign
from tests.support.visitor import Visitor


@dataclass
class World:
    app: object
    token: str
    campaign_id: int
    code: str

    def url_for_rule(self, rule) -> str:
        """A concrete URL for a rule, filled with this world's objects."""
        values = {
            "lang": "es",
            "token": self.token,
            "section_id": "legal",
            "campaign_id": self.campaign_id,
            "code": self.code,
            "association_id": 1,
            "key_id": 1,
            "questionnaire_id": "mini",
            "version": 1,
            "filename": "style.css",
        }
        path = rule.rule
        for argument in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{argument}>", str(values[argument]), path)
        return path


@pytest.fixture
def world(app, client):
    create_association(app, "Gremio A", "a@example.cl")
    login(client, "a@example.cl")
    campaign_id = new_campaign(client)
    code = invitation_code(client, campaign_id)
    visitor = Visitor(app.test_client())
    visitor.start()
    create_staff(app)
    return World(app, visitor.token, campaign_id, code)


def all_rules(app, method):
    return [r for r in app.url_map.iter_rules() if method in r.methods]
