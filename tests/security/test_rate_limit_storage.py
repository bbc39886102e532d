"""T9: where rate limits count. With memory:// (the default) each worker counts on its
own; with RATELIMIT_STORAGE_URI=redis://... every worker counts together. Two app
instances in one process stand for two workers (each app keeps its own storage:
app/extensions.py: AppLimiter)."""

from __future__ import annotations

import os
import secrets

import pytest

from tests.support.accounts import create_association
from tests.support.pages import csrf_token_of

REDIS_URL = "redis://127.0.0.1:6379/15"


def wrong_logins(client, count, email="a@example.cl", address="127.0.0.1"):
    path = "/es/associations/login"
    data = {"csrf_token": csrf_token_of(client, path), "email": email, "password": "wrong one"}
    return [
        client.post(path, data=data, environ_base={"REMOTE_ADDR": address}).status_code
        for _ in range(count)
    ]


def test_login_limit_counts_per_worker_with_memory_storage(make_app):
    """The default (memory://): each worker, here each app instance, counts on its own."""
    first, second = make_app(), make_app()
    create_association(first, "A", "a@example.cl")
    one, two = first.test_client(), second.test_client()
    assert wrong_logins(one, 3) == [422] * 3
    assert wrong_logins(two, 5) == [422] * 5  # 8 in all: more than the 5 per account
    assert wrong_logins(one, 3) == [422, 422, 429]


def redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and Redis at {REDIS_URL} is unreachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable ({error}); start redis-server to run")


def test_login_limit_is_shared_by_workers_with_redis_storage(make_app):
    """RATELIMIT_STORAGE_URI=redis://...: two app instances (two workers) count together."""
    redis_or_skip()
    # Counts stay in Redis for the window (15 minutes), and other runs share the
    # database: an account and an address of this run's own.
    run = secrets.token_bytes(3)
    email, address = f"a-{run.hex()}@example.cl", "10." + ".".join(str(b) for b in run)
    first = make_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    second = make_app(RATELIMIT_STORAGE_URI=REDIS_URL)
    create_association(first, "A", email)
    one, two = first.test_client(), second.test_client()
    assert wrong_logins(one, 3, email, address) == [422] * 3
    assert wrong_logins(two, 3, email, address) == [422, 422, 429]
    assert wrong_logins(one, 1, email, address) == [429]


def test_an_app_built_without_limits_leaves_the_next_app_its_limits(make_app):
    """Flask-Limiter keeps `enabled` on its one object: an app built with
    RATELIMIT_ENABLED=False (as load tests do) must not switch off the next app's limits."""
    unlimited = make_app(RATELIMIT_ENABLED=False)
    limited = make_app()
    create_association(limited, "A", "a@example.cl")
    assert wrong_logins(unlimited.test_client(), 7) == [422] * 7
    assert wrong_logins(limited.test_client(), 6) == [422] * 5 + [429]
