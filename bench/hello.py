"""Bare Flask apps: the ceiling that bench/http.py compares the real pages to.

`/` is "Hello, World!" and nothing else. `/headers` is the true cap of any page of
the app: the same hello plus what every page of the app must send -- its security
headers (app/security.py) and a freshly signed session cookie, as a page with a form
does for a first visitor.

Served exactly like the real app (gunicorn, 2 sync workers), from the project root:
    .venv/bin/gunicorn --workers 2 --bind 127.0.0.1:8001 bench.hello:app
(Run it from the project root as `bench.hello`, never with bench/ on the path:
bench/http.py would then shadow the standard library's `http` package.)
"""

import os
import secrets

from flask import Flask
from flask import session

from app.security import HEADERS

app = Flask(__name__)
app.secret_key = os.environ.get("SECRET_KEY", "bench-hello")


@app.get("/")
def hello():
    return "Hello, World!"


@app.get("/headers")
def hello_with_headers():
    session["csrf_token"] = secrets.token_hex(20)
    return "Hello, World!", HEADERS
