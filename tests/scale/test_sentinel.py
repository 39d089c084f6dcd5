"""Redis Sentinel for real: the challenge store through django-redis's Sentinel client on a primary, a
replica and three sentinels (``redis_sentinel``), and the primary killed during a wave of logins.

The store's own test suite runs on this deployment too (``tests/push_store``, the ``sentinel`` store).
"""
from __future__ import annotations

import json
import threading

import pytest

from django_pushmfa.push.store.listener import Listener

from ..hardening.conftest import is_logged_in, new_browser, poll, start_push
from .failover import assert_failed_closed, figures, run_wave

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sentinel_store(redis_sentinel, settings):
    settings.CACHES = {**settings.CACHES, "sentinel": redis_sentinel.cache("pushmfa-test-failover")}
    settings.PUSHMFA_CACHE_ALIAS = "sentinel"
    settings.PUSHMFA_CHALLENGE_STORE = None  # the Redis store, chosen for a django-redis cache
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = settings.PUSHMFA_PUSH_RATE_LIMIT_IP = (10**6, 900)  # a wave from one IP
    yield redis_sentinel
    Listener.stop_all()


def test_a_primary_failover_during_a_wave_of_logins_fails_closed(sentinel_store, phone_users, password):
    wave = run_wave(phone_users, password, sentinel_store.kill_primary, sentinel_store.wait_for_promotion)
    result = figures(wave)
    print("sentinel failover:", json.dumps(result))
    assert_failed_closed(wave)
    assert result["failed_503"] >= 1  # the wave did run into the outage

    # the long-poll wake-ups resubscribed to the new primary on their own: a waiting browser is woken
    # by the phone's answer (without pub/sub it would sit out its whole wait and read "pending")
    user = phone_users[0]
    browser = new_browser(user, password)
    started = start_push(browser)
    answer = threading.Timer(0.3, lambda: user.phone.approve(started["challenge_id"], started["display_number"]))
    answer.start()
    response = poll(browser, started["challenge_id"], wait=20)
    answer.join()
    assert response.json()["status"] == "approved"
    assert is_logged_in(browser)
