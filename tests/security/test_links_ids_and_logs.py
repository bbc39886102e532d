"""T28, T29, T30: links built on BASE_URL, ids beyond the database's range, no secret
in a logged exception."""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.support.accounts import login
from tests.support.pages import csrf_token_of

# --- T29: an id beyond the database's integer range is an unknown page, not a 500

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
