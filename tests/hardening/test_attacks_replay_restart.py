"""Finding 7 of issue 11: a Redis restart does not reopen replays of signed device requests.

The nonces live in Redis; a restart without persistence forgets them, and a captured request whose
timestamp is still inside the skew window would verify again. The nonce store keeps the time it
started holding nonces (its epoch: the Redis server's start); a request signed before that is
refused — it may have been seen by the store that was lost.
"""
from __future__ import annotations

import time

import pytest

from .conftest import API

pytestmark = [pytest.mark.django_db, pytest.mark.redis_outage]


@pytest.fixture
def phone_on_private_redis(outage_cache, push_user):
    from django.core.cache import caches

    from django_pushmfa.api.authentication import NONCE_EPOCH_KEY

    caches["outage"].set(NONCE_EPOCH_KEY, int(time.time()) - 3600, None)  # the store has been up an hour
    return push_user.phone, outage_cache


def test_a_captured_request_does_not_replay_after_a_restart(phone_on_private_redis):
    phone, redis = phone_on_private_redis
    path = API + "device/challenges/"
    captured = phone.header("GET", path, ts=int(time.time()) - 5)  # inside the 60 s skew window
    assert phone.send("GET", path, authorization=captured).status_code == 200
    assert phone.send("GET", path, authorization=captured).status_code == 401  # the nonce is known
    redis.stop()
    redis.start()  # no persistence: every nonce is gone
    replay = phone.send("GET", path, authorization=captured)
    assert replay.status_code == 401 and replay.json()["code"] == "invalid_signature"
    # The phone's own next request, signed now, works.
    assert phone.challenges().status_code == 200


def test_a_fresh_store_refuses_requests_signed_before_it_started(outage_cache, push_user):
    """A store without an epoch takes the server's start: an older signature is refused."""
    phone = push_user.phone
    # Signed well before this test's redis-server started (still inside the 60 s skew window).
    old = phone.header("GET", API + "device/challenges/", ts=int(time.time()) - 55)
    assert phone.send("GET", API + "device/challenges/", authorization=old).status_code == 401
    assert phone.challenges().status_code == 200
