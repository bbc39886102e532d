"""T9: where rate limits count. With memory:// (the default) each worker counts on its
own; with RATELIMIT_STORAGE_URI=redis://... every worker counts together. Two app
instances in one process stand for two workers (each app keeps its own storage:
app/extensions.py: AppLimiter)."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.support.accounts import create_association
from tests.support.accounts import login

REDIS_URL = "redis://127.0.0.1:6379/15"


def wrong_logins(client, count):
    return [login(client, "a@example.cl", "wrong password here").status_code for _ in range(count)]


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
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}
    first, second = make_app(**shared), make_app(**shared)
    create_association(first, "A", "a@example.cl")
    one, two = first.test_client(), second.test_client()
    assert wrong_logins(one, 3) == [422] * 3
    assert wrong_logins(two, 3) == [422, 422, 429]
    assert wrong_logins(one, 1) == [429]
