"""Small, thread-safe caches that forget their least recently used entries."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app

MISSING = object()


class BoundedCache:
    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            value = self._entries.get(key, MISSING)
            if value is MISSING:
                return default
            self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class AppCache:
    """A BoundedCache for each application instance.

    A cache shared by the whole process would hand one app's figures to another
    (the tests, and tools like the benchmarks, run several apps on different
    databases in one process). Use inside an application context."""

    def __init__(self, name: str, size: int):
        self.name = name
        self.size = size

    def _cache(self) -> BoundedCache:
        caches = current_app.extensions.setdefault("caches", {})
        cache = caches.get(self.name)
        if cache is None:
            cache = caches.setdefault(self.name, BoundedCache(self.size))
        return cache

    def get(self, key, default=None):
        return self._cache().get(key, default)

    def put(self, key, value) -> None:
        self._cache().put(key, value)
