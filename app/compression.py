"""Small responses for slow prepaid connections: gzip for text, long caching for
static files whose URL carries a hash of their content."""

from __future__ import annotations

import gzip
import hashlib
import re
import struct
import zlib
from pathlib import Path

from flask import Flask
from flask import current_app
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


# --- Pages kept with holes ------------------------------------------------------
#
# A gzip member is a header, a raw deflate stream and a trailer (CRC-32 and length of
# the text). A deflate stream may be made of pieces compressed apart, each ended by a
# sync flush (byte-aligned, not final), then one final block. So the constant parts of
# a kept page are deflated once (when it is served again), at the best level, and each
# request only adds its holes' values as stored blocks: no compression work per request.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # no name, no time, best level
FINAL_BLOCK = b"\x01\x00\x00\xff\xff"  # an empty stored block marked last
MAX_STORED_BLOCK = 65_535


def _deflated_piece(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


def _stored_piece(data: bytes) -> bytes:
    """Bytes as deflate stored blocks (not final): copied, not compressed."""
    blocks = []
    for start in range(0, len(data), MAX_STORED_BLOCK):
        chunk = data[start : start + MAX_STORED_BLOCK]
        blocks.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(blocks)


class PageWithHoles:
    """A rendered page kept without what belongs to one visitor: each hole (a marker
    string) is filled per request. Its constant parts are kept as text and, once the
    page is served compressed a second time, pre-deflated: from then on a response
    costs a join and a CRC-32, compressed or not. The first is compressed whole, as
    any page: most pages are seen once, and deflating at the best level costs more."""

    def __init__(self, html: str, holes: tuple[str, ...]):
        pattern = re.compile("|".join(re.escape(hole) for hole in holes))
        self.parts = [part.encode() for part in pattern.split(html)]
        self.holes = pattern.findall(html)  # the hole between parts[i] and parts[i + 1]
        self.deflated = None  # the parts deflated, from the second compressed response
        self.compressed_once = False
        # What the cache counts: the text, and room for the deflated parts (~1/4 of it).
        self.size_in_bytes = sum(map(len, self.parts)) * 5 // 4

    def body(self, values: dict[str, str]) -> bytes:
        """The page with its holes filled (`values`: hole -> text)."""
        filled = [values[hole].encode() for hole in self.holes]
        return b"".join(_interleave(self.parts, filled))

    def gzipped(self, values: dict[str, str]) -> bytes:
        """`body(values)`, gzip-compressed."""
        filled = [values[hole].encode() for hole in self.holes]
        text = b"".join(_interleave(self.parts, filled))
        if not self.compressed_once:
            self.compressed_once = True
            return _gzip(text)
        if self.deflated is None:
            self.deflated = [_deflated_piece(part) for part in self.parts]
        stream = b"".join(_interleave(self.deflated, [_stored_piece(v) for v in filled]))
        trailer = struct.pack("<II", zlib.crc32(text), len(text) & 0xFFFFFFFF)
        return GZIP_HEADER + stream + FINAL_BLOCK + trailer

    def response(self, values: dict[str, str], status: int = 200):
        """A response with the holes filled, gzipped when the client accepts it."""
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            response = current_app.response_class(
                self.gzipped(values), status, mimetype="text/html"
            )
            response.headers["Content-Encoding"] = "gzip"
            response.vary.add("Accept-Encoding")
            return response
        return current_app.response_class(self.body(values), status, mimetype="text/html")


def _interleave(parts: list[bytes], fillings: list[bytes]):
    for index, part in enumerate(parts):
        yield part
        if index < len(fillings):
            yield fillings[index]
