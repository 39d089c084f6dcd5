"""Findings 2 and 3 of issue 11: the typed-code back-off holds under races and cache outages.

- Parallel guesses: the attempt is counted atomically *before* the code is looked at, so N
  concurrent wrong codes get at most ``PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS`` of them checked.
- A cache that raises (Redis down) or answers nothing (django-redis ``IGNORE_EXCEPTIONS``): the
  attempt is counted in the database; the back-off never fails open, security keys keep working.

"Checked" is measured by what only a looked-at code leaves behind: its ``mfa_failed`` event with
``method="totp"`` (an attempt refused by the back-off is answered 429 and leaves none).
"""
from __future__ import annotations

import threading

import django
import pyotp
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from django_pushmfa.models import SecurityEvent

from .conftest import API, is_logged_in, json_post, new_browser

CONCURRENT = 32
FREE = 3


@pytest.fixture
def throttle_settings(settings):
    settings.PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS = FREE
    settings.PUSHMFA_TOTP_FAILURE_BACKOFF_BASE = 60
    return settings


def wrong_code(user) -> str:
    right = pyotp.TOTP(user.totp_secret).now()
    return f"{(int(right) + 500_000) % 1_000_000:06d}"


def checked_codes(user) -> int:
    return SecurityEvent.objects.filter(
        user=user, kind=SecurityEvent.Kind.MFA_FAILED, detail__method="totp"
    ).count()


def guess_in_parallel(browsers: list[Client], code: str) -> list[int]:
    barrier = threading.Barrier(len(browsers))
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(browser: Client) -> None:
        try:
            barrier.wait()
            status = json_post(browser, API + "totp/verify/", {"code": code}).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


@pytest.fixture
def silent_outage(outage_cache, settings):
    """The outage cache with django-redis ``IGNORE_EXCEPTIONS``: a dead Redis reads as empty."""
    settings.CACHES = {
        **settings.CACHES,
        "outage": {
            **settings.CACHES["outage"],
            "OPTIONS": {**settings.CACHES["outage"]["OPTIONS"], "IGNORE_EXCEPTIONS": True},
        },
    }
    return outage_cache


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_check_at_most_the_free_attempts(totp_user, password, throttle_settings):
    browsers = [new_browser(totp_user, password) for _ in range(CONCURRENT)]
    statuses = guess_in_parallel(browsers, wrong_code(totp_user))
    assert len(statuses) == CONCURRENT
    assert statuses.count(400) <= FREE, statuses
    assert statuses.count(400) + statuses.count(429) == CONCURRENT, statuses
    assert checked_codes(totp_user) == statuses.count(400) <= FREE


@pytest.mark.redis_outage
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and django.VERSION < (5, 1),
    reason="the database fallback serialises on IMMEDIATE transactions, which SQLite gets from Django 5.1",
)
@pytest.mark.parametrize("mode", ["raising", "silent"])
def test_parallel_guesses_while_the_cache_is_down(mode, request, totp_user, password, throttle_settings):
    outage = request.getfixturevalue("silent_outage" if mode == "silent" else "outage_cache")
    browsers = [new_browser(totp_user, password) for _ in range(CONCURRENT)]
    outage.stop()
    statuses = guess_in_parallel(browsers, wrong_code(totp_user))
    assert len(statuses) == CONCURRENT
    assert statuses.count(400) <= FREE, statuses
    assert checked_codes(totp_user) == statuses.count(400) <= FREE


@pytest.mark.redis_outage
@pytest.mark.django_db
def test_silent_cache_outage_does_not_turn_the_back_off_off(silent_outage, totp_user, password, throttle_settings):
    """The report's reproduction: 30 wrong codes, then the right one."""
    browser = new_browser(totp_user, password)
    silent_outage.stop()
    statuses = [
        json_post(browser, API + "totp/verify/", {"code": wrong_code(totp_user)}).status_code for _ in range(30)
    ]
    assert statuses[:FREE] == [400] * FREE and set(statuses[FREE:]) == {429}, statuses
    right = json_post(browser, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert right.status_code == 429 and right.json()["code"] == "rate_limited"
    assert not is_logged_in(browser)
    # Backup codes share the counter.
    response = json_post(browser, API + "backup-codes/verify/", {"code": "aaaa-bbbb-cccc-dddd"})
    assert response.status_code == 429


@pytest.mark.redis_outage
@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["raising", "silent"])
def test_a_good_code_still_logs_in_during_an_outage(mode, request, totp_user, password, throttle_settings):
    outage = request.getfixturevalue("silent_outage" if mode == "silent" else "outage_cache")
    browser = new_browser(totp_user, password)
    outage.stop()
    assert json_post(browser, API + "totp/verify/", {"code": wrong_code(totp_user)}).status_code == 400
    right = json_post(browser, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert right.status_code == 200, right.content
    assert is_logged_in(browser)
    # The database-counted attempts are resolved: the streak ended with the completed step.
    later = new_browser(totp_user, password)
    for _ in range(FREE):
        assert json_post(later, API + "totp/verify/", {"code": wrong_code(totp_user)}).status_code == 400


@pytest.mark.redis_outage
@pytest.mark.django_db
def test_security_keys_work_while_the_cache_answers_nothing(silent_outage, user, password):
    from tests.fallbacks.authenticator import SoftwareAuthenticator

    from .conftest import logged_in_client

    account = logged_in_client(user, password)
    key = SoftwareAuthenticator()
    options = json_post(account, API + "webauthn/register/begin/", {"passkey": False})
    assert options.status_code == 200, options.content
    done = json_post(
        account, API + "webauthn/register/complete/", {"credential": key.create(options.json()), "label": "Key"}
    )
    assert done.status_code == 201, done.content
    silent_outage.stop()
    browser = new_browser(user, password)
    begin = json_post(browser, API + "webauthn/begin/")
    assert begin.status_code == 200, begin.content
    ok = json_post(browser, API + "webauthn/complete/", {"credential": key.get(begin.json())})
    assert ok.status_code == 200, ok.content
    assert is_logged_in(browser)


@pytest.mark.redis_outage
@pytest.mark.django_db
def test_signed_device_requests_fail_closed_when_the_cache_answers_nothing(silent_outage, push_user):
    """The nonce store answering nothing is an outage (503), not a replay (401) nor a pass."""
    silent_outage.stop()
    response = push_user.phone.challenges()
    assert response.status_code == 503, response.content
