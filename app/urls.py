"""URLs: ids in paths, and absolute links built on BASE_URL (docs/SECURITY.md T28, T29)."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# The largest id PostgreSQL's INTEGER holds; a larger number makes it raise.
MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """`<int:...>` in this app is always a row id, so it matches only what a row id can
    be: ASCII digits without a leading zero, 1 to 2**31 - 1. Anything else (a number
    beyond the database's range, other scripts' digits, `0001`) matches no route and is a
    404 like any unknown page, never a database error. Registered as `int` in
    create_app, so no view has to check."""

    regex = r"[1-9][0-9]{0,9}"

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


def init_app(app) -> None:
    """Before any blueprint is registered: rules read the converters when they are added."""
    app.url_map.converters["int"] = DatabaseId
