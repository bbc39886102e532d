"""A bare Flask "hello" app: the ceiling that bench/http.py compares the real pages to.

Served exactly like the real app (gunicorn, 2 sync workers), from the project root:
    .venv/bin/gunicorn --workers 2 --bind 127.0.0.1:8001 bench.hello:app
(Run it from the project root as `bench.hello`, never with bench/ on the path:
bench/http.py would then shadow the standard library's `http` package.)
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
