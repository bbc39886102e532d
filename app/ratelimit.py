"""Rate-limit storage that fails open, loudly (docs/SECURITY.md 2.7 item 17).

With RATELIMIT_STORAGE_URI=redis://..., a Redis that is down or frozen must not turn
every limited page (logins, new assessments, joins, unknown links) into a 500 or a
hung worker. Every Redis call has short connect and socket timeouts and no retries
(RATELIMIT_STORAGE_OPTIONS); a call that fails opens a circuit for
RATELIMIT_STORAGE_RETRY_SECONDS, during which no limit is counted or enforced and
no call is made, so a request never waits for a dead Redis more than once per
circuit. The failure is logged as an ERROR at most once a minute per worker.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from flask import current_app

log = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 60.0

# What a storage call answers while the circuit is open: "nothing counted yet", so
# every limit passes (fail open). Methods not listed raise StorageDown.
OPEN_ANSWERS = {
    "incr": lambda *a, **k: 0,
    "get": lambda *a, **k: 0,
    "get_expiry": lambda *a, **k: time.time() + 1,
    "check": lambda *a, **k: False,
    "clear": lambda *a, **k: None,
    "reset": lambda *a, **k: None,
    "acquire_entry": lambda *a, **k: True,
    "get_moving_window": lambda *a, **k: (time.time(), 0),
    "acquire_sliding_window_entry": lambda *a, **k: True,
    "get_sliding_window": lambda *a, **k: (0, 0.0, 0, 0.0),
    "clear_sliding_window": lambda *a, **k: None,
}


def redis_options(timeout_seconds: float) -> dict:
    """Connection options for a redis:// storage: short timeouts, no retries (redis-py
    retries three times by default, which would quadruple every wait)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "socket_connect_timeout": timeout_seconds,
        "socket_timeout": timeout_seconds,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 0,
    }


class GuardedStorage:
    """A limits storage behind a circuit breaker: while open, answers as if nothing
    had been counted; a failing call opens it (and is answered the same way)."""

    def __init__(self, storage, retry_seconds: float):
        self._storage = storage
        self._retry_seconds = retry_seconds
        self._open_until = 0.0
        self._last_logged = float("-inf")
        self._lock = threading.Lock()

    @property
    def unavailable(self) -> bool:
        return time.monotonic() < self._open_until

    def _failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            was_closed = now >= self._open_until
            self._open_until = now + self._retry_seconds
            should_log = now - self._last_logged >= LOG_EVERY_SECONDS
            if should_log:
                self._last_logged = now
        if should_log:
            log.error(
                "Rate-limit storage unreachable (%s: %s): limits are not enforced; "
                "retrying every %.0f s",
                type(error).__name__,
                str(error)[:200],
                self._retry_seconds,
            )
        elif was_closed:
            log.debug("Rate-limit storage still unreachable: %s", type(error).__name__)

    def healthy(self) -> bool:
        """Ask the storage itself (one ping, bounded by the socket timeouts)."""
        try:
            ok = bool(self._storage.check())
        except Exception as error:  # noqa: BLE001 (any driver error means "down")
            self._failed(error)
            return False
        if not ok:
            self._failed(ConnectionError("ping failed"))
            return False
        if self.unavailable:
            self._open_until = 0.0
            log.warning("Rate-limit storage answers again: limits are enforced")
        return True

    def __getattr__(self, name):
        attribute = getattr(self._storage, name)
        if not callable(attribute) or name not in OPEN_ANSWERS:
            return attribute
        fallback = OPEN_ANSWERS[name]

        def guarded(*args, **kwargs):
            if self.unavailable:
                return fallback(*args, **kwargs)
            try:
                return attribute(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 (redis, socket and limits errors alike)
                self._failed(error)
                return fallback(*args, **kwargs)

        return guarded


def is_memory(uri: str) -> bool:
    return uri.startswith("memory://")


def init_app(app: Flask) -> None:
    """Put the circuit breaker between Flask-Limiter and a server storage (after
    limiter.init_app). The in-memory storage of one worker cannot fail: left alone."""
    from .extensions import limiter

    if is_memory(app.config.get("RATELIMIT_STORAGE_URI") or "memory://"):
        return
    if "rate_limits" in app.extensions:  # one storage per app (extensions.AppLimiter)
        storage, strategy = app.extensions["rate_limits"]
    else:
        storage, strategy = limiter._storage, limiter._limiter
    guarded = GuardedStorage(storage, app.config["RATELIMIT_STORAGE_RETRY_SECONDS"])
    strategy.storage = guarded
    if "rate_limits" in app.extensions:
        app.extensions["rate_limits"] = (guarded, strategy)
    else:
        limiter._storage = guarded
    app.extensions["rate_limit_guard"] = guarded


def storage_state() -> str:
    """The rate-limit storage for /healthz: "memory" (per worker), "ok" or "unavailable"."""
    guard = current_app.extensions.get("rate_limit_guard")
    if guard is None:
        return "memory"
    if guard.unavailable:
        return "unavailable"
    return "ok" if guard.healthy() else "unavailable"
