"""Redis outages, for real: a private redis-server is killed before and during a login, then restarted.

Push fails closed (``503 service_unavailable``, nobody logged in); TOTP and backup codes keep working
(they need only the database); when Redis is back, push works again in the same process.
"""
from __future__ import annotations

import logging
import threading
import time

import pyotp
import pytest
from django.db import connections

from .conftest import API, POLL_VARIANTS, enroll_totp, is_logged_in, json_post, new_browser, poll, start_push

pytestmark = [pytest.mark.django_db, pytest.mark.redis_outage]


def _unavailable(response) -> None:
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"


@pytest.fixture
def enrolled(outage_cache, push_user):
    """alice with a paired phone (paired before the outage fixture matters: pairing is DB-only) and TOTP."""
    push_user.totp_secret = enroll_totp(push_user)
    return push_user


def in_thread(func, *args):
    """``func(*args)`` for a helper thread, closing that thread's database connections afterwards."""

    def run():
        try:
            func(*args)
        finally:
            connections.close_all()

    return run


def _no_crash_logs(caplog) -> None:
    """Django logs every 5xx answer at ERROR (``django.request``), as it should during an outage; what
    must not appear is a traceback (an unhandled exception: a 500)."""
    crashes = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and (r.exc_info or getattr(r, "status_code", 0) == 500)
    ]
    assert not crashes, [r.getMessage() for r in crashes]


def test_redis_down_before_the_login_starts(enrolled, outage_cache, password, caplog):
    outage_cache.stop()
    browser = new_browser(enrolled, password)  # the password step needs no Redis (DB sessions)
    _unavailable(json_post(browser, API + "push/"))
    assert not is_logged_in(browser)
    methods = browser.get(API + "methods/", HTTP_ACCEPT="application/json")
    assert methods.status_code == 200  # the chooser still offers the fallbacks
    assert {m["method"] for m in methods.json()["methods"]} >= {"push", "totp"}
    # the phone cannot talk either (its nonce check needs the store): fail closed, not open
    _unavailable(enrolled.phone.challenges())

    # TOTP still works
    ok = json_post(browser, API + "totp/verify/", {"code": pyotp.TOTP(enrolled.totp_secret).now()})
    assert ok.status_code == 200, ok.content
    assert is_logged_in(browser)
    _no_crash_logs(caplog)

    # Redis comes back: push works again, no restart
    outage_cache.start()
    second = new_browser(enrolled, password)
    started = start_push(second)
    assert enrolled.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
    assert poll(second, started["challenge_id"]).json()["status"] == "approved"
    assert is_logged_in(second)


def test_backup_codes_work_while_redis_is_down(enrolled, outage_cache, password, account_client):
    codes = json_post(account_client, API + "backup-codes/")
    assert codes.status_code == 201, codes.content
    code = codes.json()["codes"][0]
    outage_cache.stop()
    browser = new_browser(enrolled, password)
    _unavailable(json_post(browser, API + "push/"))
    ok = json_post(browser, API + "backup-codes/verify/", {"code": code})
    assert ok.status_code == 200, ok.content
    assert is_logged_in(browser)


@pytest.mark.parametrize("variant", POLL_VARIANTS)
def test_redis_dies_while_the_browser_waits(enrolled, outage_cache, password, variant):
    browser = new_browser(enrolled, password)
    started = start_push(browser)
    killer = threading.Timer(0.5, outage_cache.stop)
    killer.start()
    began = time.monotonic()
    try:
        response = poll(browser, started["challenge_id"], wait=10, variant=variant)
    finally:
        killer.join()
    elapsed = time.monotonic() - began
    _unavailable(response)
    assert elapsed < 9, f"the long-poll noticed the outage only after {elapsed:.1f}s"
    assert not is_logged_in(browser)

    # the phone approves into the void: nothing
    _unavailable(enrolled.phone.approve(started["challenge_id"], started["display_number"]))
    _unavailable(poll(browser, started["challenge_id"], variant=variant))
    assert not is_logged_in(browser)

    # TOTP rescues this very login
    ok = json_post(browser, API + "totp/verify/", {"code": pyotp.TOTP(enrolled.totp_secret).now()})
    assert ok.status_code == 200, ok.content
    assert is_logged_in(browser)


@pytest.mark.django_db(transaction=True)  # the phone answers from another thread
def test_push_works_again_after_redis_returns(enrolled, outage_cache, password):
    browser = new_browser(enrolled, password)
    started = start_push(browser)
    outage_cache.stop()
    _unavailable(poll(browser, started["challenge_id"]))
    outage_cache.start()
    # the old challenge died with the (non-persistent) server: the browser sees it as gone, never approved
    gone = poll(browser, started["challenge_id"])
    assert gone.status_code == 404 or gone.json()["status"] == "expired"
    assert not is_logged_in(browser)
    # the same process, same connection pool: a new push goes through end to end, long-poll included
    started = start_push(browser)
    answer_later = in_thread(enrolled.phone.approve, started["challenge_id"], started["display_number"])
    approve = threading.Timer(0.3, answer_later)
    approve.start()
    try:
        answer = poll(browser, started["challenge_id"], wait=10)
    finally:
        approve.join()
    assert answer.json()["status"] == "approved", answer.content
    assert is_logged_in(browser)


def test_security_keys_work_while_redis_is_down(enrolled, outage_cache, password, account_client):
    from tests.fallbacks.authenticator import SoftwareAuthenticator

    key = SoftwareAuthenticator()
    options = json_post(account_client, API + "webauthn/register/begin/", {"passkey": False})
    assert options.status_code == 200, options.content
    done = json_post(
        account_client, API + "webauthn/register/complete/", {"credential": key.create(options.json()), "label": "Key"}
    )
    assert done.status_code == 201, done.content

    outage_cache.stop()
    browser = new_browser(enrolled, password)
    _unavailable(json_post(browser, API + "push/"))
    begin = json_post(browser, API + "webauthn/begin/")
    assert begin.status_code == 200, begin.content
    ok = json_post(browser, API + "webauthn/complete/", {"credential": key.get(begin.json())})
    assert ok.status_code == 200, ok.content
    assert is_logged_in(browser)


def test_code_guessing_is_still_throttled_while_redis_is_down(enrolled, outage_cache, password, settings):
    """Without the cache the typed-code back-off is read from the database: it never fails open."""
    settings.PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS = 3
    settings.PUSHMFA_TOTP_FAILURE_BACKOFF_BASE = 60
    outage_cache.stop()
    browser = new_browser(enrolled, password)
    right = pyotp.TOTP(enrolled.totp_secret).now()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(3):
        response = json_post(browser, API + "totp/verify/", {"code": wrong})
        assert response.status_code == 400 and response.json()["code"] == "invalid_code"
    locked = json_post(browser, API + "totp/verify/", {"code": right})
    assert locked.status_code == 429 and locked.json()["code"] == "rate_limited"
    assert 0 < int(locked["Retry-After"]) <= 60
    assert not is_logged_in(browser)
