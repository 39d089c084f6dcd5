"""Finding 4 of issue 11: Django's own ``RedisCache`` gets the atomic Redis challenge store.

The generic cache store locks per process; on a cache shared by several processes its
read-modify-write rate limit lets too many pushes through. Reproduced here with 8 processes (fork)
starting pushes for one user at once against ``django.core.cache.backends.redis.RedisCache``: with
a per-user limit of 5 exactly 5 may start.
"""
from __future__ import annotations

import multiprocessing
import time

import pytest

from django_pushmfa.push.store import REDIS_STORE, get_store, store_class
from django_pushmfa.push.store.base import PENDING, Challenge, RateLimit, new_challenge_id

PROCESSES = 8
PER_PROCESS = 4
LIMIT = 5


@pytest.fixture
def builtin_redis(settings):
    from tests.settings import REDIS_URL

    settings.CACHES = {
        **settings.CACHES,
        "builtin": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pushmfa-test-builtin",
        },
    }
    settings.PUSHMFA_CACHE_ALIAS = "builtin"
    settings.PUSHMFA_CHALLENGE_STORE = None
    from django.core.cache import caches

    caches["builtin"].clear()
    yield "builtin"
    caches["builtin"].clear()


def _challenge(user_id: str) -> Challenge:
    now = time.time()
    return Challenge(
        id=new_challenge_id(), user_id=user_id, binding="b", display_number="47", choices=["23", "47", "81"],
        status=PENDING, created_at=now, expires_at=now + 120, context={},
    )


def _start_pushes(barrier, results) -> None:
    from django_pushmfa.exceptions import RateLimited

    store = get_store()
    barrier.wait()
    started = 0
    for _ in range(PER_PROCESS):
        try:
            store.create(_challenge("42"), limits=[RateLimit("user", "42", LIMIT, 900)])
            started += 1
        except RateLimited:
            pass
    results.put(started)


def test_builtin_redis_cache_gets_the_atomic_store(builtin_redis):
    assert store_class(builtin_redis) == REDIS_STORE


def test_processes_racing_on_the_builtin_redis_cache_respect_the_limit(builtin_redis):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [context.Process(target=_start_pushes, args=(barrier, results)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    started = sum(results.get(timeout=5) for _ in processes)
    assert started == LIMIT, started
