"""The floor under the real pages, served by bench/http.py beside the app and hello.

The app itself -- create_app() with every hook a page goes through (security
headers, session, rate limiter, gzip) -- answering with a constant copy of the
section page, first as it is and then after the token lookup every assessment
page starts with. No assessment page can be served faster than the second row,
so these two rows tell how much of a target is left to the page's own work.

Needs BENCH_FLOOR_PAGE (a file with the page to send) besides the app's own
settings. Served from the project root like bench/hello.py:
    BENCH_FLOOR_PAGE=page.html .venv/bin/gunicorn --workers 2 bench.floor:app
"""

import os
from pathlib import Path

from app import create_app
from app.assess import store

PAGE = Path(os.environ["BENCH_FLOOR_PAGE"]).read_text(encoding="utf-8")
app = create_app()


@app.get("/<lang>/bench-floor/")
def constant_page():
    return PAGE


@app.get("/<lang>/bench-floor/<token>")
def after_token_lookup(token):
    store.find(token)
    return PAGE
