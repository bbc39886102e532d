"""Small responses for slow prepaid connections: gzip for text, long caching for
static files whose URL carries a hash of their content."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from flask import Flask
from flask import g
from flask import request

from .cache import SHARED_GZIP
from .cache import memoized

COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")
MIN_SIZE = 500  # bytes; below this gzip's header costs more than it saves
ONE_YEAR = 31_536_000


def init_app(app: Flask) -> None:
    hashes = _static_hashes(Path(app.static_folder))

    @app.url_defaults
    def version_static_urls(endpoint, values):
        if endpoint == "static" and values.get("filename") in hashes:
            values["v"] = hashes[values["filename"]]

    @app.after_request
    def cache_and_compress(response):
        if request.endpoint == "static":
            filename = (request.view_args or {}).get("filename")
            if filename in hashes and request.args.get("v") == hashes[filename]:
                # The URL changes whenever the file does, so browsers may keep it for a year.
                # Another hash (a page from another release) gets the file without that promise.
                response.cache_control.no_cache = None
                response.cache_control.public = True
                response.cache_control.max_age = ONE_YEAR
                response.cache_control.immutable = True
            if response.status_code == 200:  # our CSS and JS are small: read them to gzip
                response.direct_passthrough = False
                body = response.get_data()
                response.close()  # the file send_file opened: set_data drops it unclosed
                response.set_data(body)
        return compress(response)


def _static_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in folder.rglob("*")
        if path.is_file()
    }


def _gzip(data: bytes) -> bytes:
    # Level 1: for an 18 KB personal page it costs about 60 % of level 6's CPU and
    # sends about a fifth more bytes (bench/http.py prints both sizes).
    return gzip.compress(data, compresslevel=1)


@memoized(SHARED_GZIP)
def _gzip_shared(data: bytes) -> bytes:
    """Shared pages are compressed once per process: the best level costs nothing later."""
    return gzip.compress(data, compresslevel=9)


def compress(response):
    if (
        response.direct_passthrough
        or response.is_streamed
        or "gzip" not in request.headers.get("Accept-Encoding", "")
        or "Content-Encoding" in response.headers
        or not response.mimetype.startswith(COMPRESSIBLE)
        or response.status_code < 200
        or response.status_code in (204, 304)
    ):
        return response
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    # Pages that are the same for everyone (static files, the cached landing page)
    # are compressed once; personal pages never enter the cache.
    shared = request.endpoint == "static" or g.get("shared_page")
    response.set_data(_gzip_shared(data) if shared else _gzip(data))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response
