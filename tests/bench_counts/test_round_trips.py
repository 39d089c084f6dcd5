"""The round trips of a push login, counted, so they cannot creep up (issue 7: benchmarks).

Each count is deterministic: SQL statements per request (Django's CaptureQueriesContext, BEGIN and
COMMIT included: each is a round trip to the database) and Redis commands per request (counted in
redis-py's connection class). ``TARGETS`` are the issue's goals; ``CEILINGS`` are what the code does
today where it misses a goal — lower them as the code improves (a lower count passes, a higher one
fails). Measured on the real Redis store with database-backed sessions, the session engine's own
statements and transaction control (BEGIN/COMMIT, savepoints) reported apart. The Redis db is this
module's own (14 beside the suite's 15), so test runs that flush the shared one cannot interfere.
"""
from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client, override_settings

from bench.counting import count_redis, login_total, push_login_counts
from bench.seed import pair_phones
from django_pushmfa.testing.phone import DjangoClientTransport, PhoneClient

pytestmark = pytest.mark.django_db(transaction=False)

# The targets, per request (SQL: statements of the app, the session engine's apart).
TARGETS = {
    "sql_app": {"start": 3, "poll_pending": 0, "device_fetch": 3, "device_respond": 3},
    "redis_commands_per_login": 6,
}
# What the code does today where a target is missed (see bench/README.md, "Findings").
CEILINGS = {
    "redis_commands_per_login": 8,  # start 1, fetch 2, respond 3, poll 2: see README for the 2 to save
    "sql_total": {"start": 6, "poll_pending": 1, "device_fetch": 1, "device_respond": 3, "poll": 15},
    "redis": {"start": 1, "poll_pending": 1, "device_fetch": 2, "device_respond": 3, "poll": 2},
}


ALIAS = "bench-counts"


@pytest.fixture
def redis_store_settings():
    location = settings.CACHES["redis"]["LOCATION"].rsplit("/", 1)[0] + "/14"
    cache = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": location, "KEY_PREFIX": "pushmfa-bench-counts"}
    with override_settings(
        CACHES={**settings.CACHES, ALIAS: cache},
        PUSHMFA_CACHE_ALIAS=ALIAS,
        PUSHMFA_PUSH_BACKENDS={
            "fcm": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
            "apns": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
        },
    ):
        caches[ALIAS].clear()
        yield
        caches[ALIAS].clear()


@pytest.fixture
def phone(user, redis_store_settings):
    return pair_phones([str(user.pk)])[0]


def _login_counts(user, password, phone):
    browser = Client()
    response = browser.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302
    phone_client = PhoneClient(DjangoClientTransport(Client()), phone.key, phone.device_id)
    return push_login_counts(browser, phone_client, wait=0)


@pytest.fixture
def steps(user, password, phone):
    _login_counts(user, password, phone)  # warm up: script loading, the pub/sub listener, caches
    return _login_counts(user, password, phone)


def test_counts_are_deterministic(user, password, phone):
    _login_counts(user, password, phone)
    first = _login_counts(user, password, phone)
    second = _login_counts(user, password, phone)
    shape = {k: (s.sql, s.redis.commands, s.status) for k, s in first.items()}
    assert shape == {k: (s.sql, s.redis.commands, s.status) for k, s in second.items()}


@pytest.mark.parametrize("step", ["start", "poll_pending", "device_fetch", "device_respond"])
def test_sql_per_endpoint_meets_target(steps, step):
    assert steps[step].sql_app <= TARGETS["sql_app"][step], steps[step].sql_statements


@pytest.mark.parametrize("step", ["start", "poll_pending", "device_fetch", "device_respond", "poll"])
def test_sql_per_endpoint_does_not_creep_up(steps, step):
    assert steps[step].sql <= CEILINGS["sql_total"][step], steps[step].sql_statements


def test_pending_poll_reads_only_the_session(steps):
    # A waiting browser costs the database nothing but the session engine's read.
    assert steps["poll_pending"].sql_app == 0
    assert steps["poll_pending"].sql == steps["poll_pending"].sql_session


@pytest.mark.parametrize("step", ["start", "poll_pending", "device_fetch", "device_respond", "poll"])
def test_redis_commands_per_endpoint_do_not_creep_up(steps, step):
    assert steps[step].redis.commands <= CEILINGS["redis"][step], steps[step].redis.as_dict()


def test_redis_commands_per_login(steps):
    total = login_total(steps)["redis_commands"]
    assert total <= CEILINGS["redis_commands_per_login"], {k: s.redis.as_dict() for k, s in steps.items()}


@pytest.mark.xfail(reason="target of issue 7 not met yet: 8 commands per login (see bench/README.md)", strict=True)
def test_redis_commands_per_login_target(steps):
    assert login_total(steps)["redis_commands"] <= TARGETS["redis_commands_per_login"]


def test_counter_counts_pipelines_as_one_round_trip():
    from django.core.cache import caches
    from django_redis import get_redis_connection

    caches["redis"].get("warm-up")
    client = get_redis_connection("redis")
    with count_redis() as counts:
        pipe = client.pipeline(transaction=False)
        pipe.set("bench-count-a", 1)
        pipe.get("bench-count-a")
        pipe.execute()
        client.get("bench-count-a")
    assert (counts.commands, counts.round_trips) == (3, 2)
    assert counts.names["GET"] == 2
