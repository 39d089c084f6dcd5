"""The challenge flows (``push.internal.challenges``) on both stores, with a real user and device."""
from __future__ import annotations

import asyncio
import re
import threading
import time

import pytest
from django.core import mail

from django_pushmfa import signals
from django_pushmfa.exceptions import (
    ChallengeExpired,
    ChallengeNotFound,
    ChallengeResolved,
    NoPushDevice,
    PushSuspended,
    RateLimited,
    WrongNumber,
)
from django_pushmfa.models import MFACredential, PushDevice, SecurityEvent
from django_pushmfa.push.backends import locmem
from django_pushmfa.push.internal import challenges, fatigue
from django_pushmfa.push.store.base import APPROVED, CONSUMED, DENIED, EXPIRED, PENDING

pytestmark = pytest.mark.django_db


@pytest.fixture
def caught():
    """Collect the challenge signals sent during a test: name → list of kwargs."""
    names = ["challenge_created", "challenge_approved", "challenge_denied", "challenge_expired", "push_suspended"]
    seen: dict[str, list[dict]] = {name: [] for name in names}
    receivers = []
    for name in names:
        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            seen[_name].append(kwargs)

        getattr(signals, name).connect(receiver, weak=False)
        receivers.append((name, receiver))
    yield seen
    for name, receiver in receivers:
        getattr(signals, name).disconnect(receiver)


def events(kind):
    return list(SecurityEvent.objects.filter(kind=kind))


def wrong(challenge):
    return next(str(n) for n in range(10, 100) if str(n) != challenge.display_number)


# --- starting -------------------------------------------------------------------------------------
def test_start_push_creates_a_bound_challenge_and_pushes_it(store, user, device, browser, caught):
    request = browser(user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                      "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
    challenge = challenges.start_push(request, user)
    assert challenge.status == PENDING and challenge.user_id == str(user.pk)
    assert len(challenge.display_number) == 2 and challenge.display_number in challenge.choices
    assert challenge.context == {
        "ip": "192.0.2.1",
        "user_agent": request.META["HTTP_USER_AGENT"],
        "browser": "Chrome 120",
        "os": "Windows",
        "location": "unknown location",
        "site_name": "testserver",  # no PUSHMFA_SITE_NAME: the request's host
        "purpose": "login",
        "service": None,
    }
    assert store.get(challenge.id) == challenge
    assert [m.data for m in locmem.outbox] == [
        {"type": "pushmfa.challenge", "challenge_id": challenge.id, "purpose": "login", "site_name": "testserver"}
    ]
    assert caught["challenge_created"][0]["challenge"] == challenge
    assert caught["challenge_created"][0]["user"] == user


def test_start_push_needs_an_active_live_device(store, user, device_factory, browser):
    with pytest.raises(NoPushDevice):
        challenges.start_push(browser(), user)
    revoked = device_factory(user)
    MFACredential.objects.filter(pk=revoked.pk).update(revoked_at="2026-01-01T00:00:00Z")
    dead = device_factory(user)
    PushDevice.objects.filter(pk=dead.pk).update(token_dead_at="2026-01-01T00:00:00Z")
    with pytest.raises(NoPushDevice):
        challenges.start_push(browser(), user)
    assert store.pending_for_user(str(user.pk)) == []


def test_a_new_push_expires_the_older_pending_one(store, user, device, browser, caught):
    request = browser()
    first = challenges.start_push(request, user)
    second = challenges.start_push(request, user)
    assert challenges.get_for_browser(request, first.id).status == EXPIRED
    assert [c.id for c in challenges.pending_for_device(device)] == [second.id]
    assert [s["challenge"].id for s in caught["challenge_expired"]] == [first.id]
    with pytest.raises(ChallengeExpired):
        challenges.get_for_device(device, first.id)


def test_entry_mode_and_digits(store, user, device, browser, settings):
    settings.PUSHMFA_NUMBER_MODE = "entry"
    settings.PUSHMFA_NUMBER_DIGITS = 6
    challenge = challenges.start_push(browser(), user)
    assert challenge.choices is None and len(challenge.display_number) == 6
    assert challenge.to_device_json()["choices"] is None
    with pytest.raises(WrongNumber):
        challenges.respond(device, challenge.id, "approve", str(int(challenge.display_number) ^ 1))


# --- browser side ----------------------------------------------------------------------------------
def test_get_for_browser_only_from_the_browser_that_started_it(store, user, device, browser):
    request = browser()
    challenge = challenges.start_push(request, user)
    assert challenges.get_for_browser(browser(same=request), challenge.id) == challenge
    for bad in (challenge.id.upper(), "x", "", "00000000-0000-4000-8000-000000000000", "../etc"):
        with pytest.raises(ChallengeNotFound):
            challenges.get_for_browser(request, bad)
    with pytest.raises(ChallengeNotFound):
        challenges.get_for_browser(browser(), challenge.id)  # another session


def test_approve_then_consume_exactly_once(store, user, device, browser, caught):
    request = browser()
    challenge = challenges.start_push(request, user)
    approved = challenges.respond(device, challenge.id, "approve", challenge.display_number)
    assert approved.status == APPROVED and approved.device_id == device.device_id
    seen = challenges.wait_for_browser(request, challenge.id, 5)
    assert seen.status == APPROVED
    assert challenges.claim(seen).claimed is True
    again = challenges.claim(seen)
    assert (again.status, again.claimed) == (CONSUMED, False)
    assert challenges.get_for_browser(request, challenge.id).status == CONSUMED
    with pytest.raises(ChallengeResolved):
        challenges.respond(device, challenge.id, "approve", challenge.display_number)
    [event] = events(SecurityEvent.Kind.PUSH_APPROVED)
    assert event.detail == {"challenge_id": challenge.id} and event.credential_id == device.pk
    assert caught["challenge_approved"][0]["device"] == device
    device.refresh_from_db()
    assert device.last_seen_at is not None


@pytest.mark.django_db(transaction=True)
def test_long_poll_wakes_when_the_phone_answers(store, user, device, browser):
    request = browser()
    challenge = challenges.start_push(request, user)
    store.prepare_watch()
    timer = threading.Timer(0.2, lambda: challenges.respond(device, challenge.id, "deny", None))
    started = time.monotonic()
    timer.start()
    result = challenges.wait_for_browser(request, challenge.id, 10)
    timer.join()
    assert result.status == DENIED
    assert time.monotonic() - started < 2


def test_async_long_poll(store, user, device, browser):
    request = browser()
    challenge = challenges.start_push(request, user)

    def approve():  # what respond() does to the store (its DB writes are covered elsewhere)
        store.transition(challenge.id, PENDING, APPROVED, device_id=device.device_id, responded_at=time.time())

    async def main():
        asyncio.get_running_loop().call_later(0.2, lambda: threading.Thread(target=approve).start())
        started = time.monotonic()
        result = await challenges.await_for_browser(request, challenge.id, 10)
        return result, time.monotonic() - started

    result, took = asyncio.run(main())
    assert result.status == APPROVED and result.device_id == device.device_id
    assert took < 2


def test_long_poll_is_capped(store, user, device, browser, settings):
    settings.PUSHMFA_LONG_POLL_MAX_WAIT = 0.1
    request = browser()
    challenge = challenges.start_push(request, user)
    started = time.monotonic()
    assert challenges.wait_for_browser(request, challenge.id, 30).status == PENDING
    assert time.monotonic() - started < 1


def test_expired_challenge(store, user, device, browser, settings, caught):
    settings.PUSHMFA_CHALLENGE_TTL = -1  # born past its window: no sleeping in tests
    request = browser()
    challenge = challenges.start_push(request, user)
    assert challenges.get_for_browser(request, challenge.id).status == EXPIRED
    assert challenges.wait_for_browser(request, challenge.id, 5).status == EXPIRED
    with pytest.raises(ChallengeExpired):
        challenges.get_for_device(device, challenge.id)
    with pytest.raises(ChallengeExpired):
        challenges.respond(device, challenge.id, "approve", challenge.display_number)
    assert challenges.pending_for_device(device) == []
    assert [s["challenge"].id for s in caught["challenge_expired"]] == [challenge.id]  # once


# --- device side -----------------------------------------------------------------------------------
def test_another_users_device_sees_nothing(store, user, device, browser, user_factory, device_factory):
    challenge = challenges.start_push(browser(), user)
    stranger = device_factory(user_factory("mallory"))
    assert challenges.pending_for_device(stranger) == []
    with pytest.raises(ChallengeNotFound):
        challenges.get_for_device(stranger, challenge.id)
    with pytest.raises(ChallengeNotFound):
        challenges.respond(stranger, challenge.id, "approve", challenge.display_number)
    assert store.get(challenge.id).status == PENDING


def test_device_json(store, user, device, browser):
    challenge = challenges.start_push(browser(), user)
    data = challenges.get_for_device(device, challenge.id).to_device_json()
    assert set(data) == {"challenge_id", "choices", "context", "expires_at"}
    assert set(data["context"]) == {
        "location", "ip", "browser", "os", "requested_at", "site_name", "purpose", "service"
    }
    assert sorted(data["choices"]) == sorted(challenge.choices) and len(set(data["choices"])) == 3


def test_wrong_number_denies_for_good(store, user, device, browser, caught):
    request = browser()
    challenge = challenges.start_push(request, user)
    with pytest.raises(WrongNumber):
        challenges.respond(device, challenge.id, "approve", wrong(challenge))
    assert store.get(challenge.id).status == DENIED
    with pytest.raises(ChallengeResolved):  # no second guess
        challenges.respond(device, challenge.id, "approve", challenge.display_number)
    assert challenges.get_for_browser(request, challenge.id).status == DENIED
    [event] = events(SecurityEvent.Kind.WRONG_NUMBER)
    assert event.detail == {"challenge_id": challenge.id}  # never the numbers
    assert caught["challenge_denied"][0]["reason"] == "wrong_number"
    [alert] = mail.outbox
    assert alert.to == [user.email] and "wrong number" in alert.subject
    assert not re.search(rf"\b{challenge.display_number}\b", alert.body)  # the IP has no 2-digit part


def test_deny_and_report(store, user, device, browser, caught):
    challenge = challenges.start_push(browser(), user)
    assert challenges.respond(device, challenge.id, "deny", None).status == DENIED
    assert len(events(SecurityEvent.Kind.PUSH_DENIED)) == 1
    challenge = challenges.start_push(browser(), user)
    assert challenges.respond(device, challenge.id, "report", None).status == DENIED
    assert len(events(SecurityEvent.Kind.PUSH_REPORTED)) == 1
    assert [s["reason"] for s in caught["challenge_denied"]] == ["denied", "reported"]


def test_bad_decisions_change_nothing(store, user, device, browser):
    challenge = challenges.start_push(browser(), user)
    with pytest.raises(ValueError):
        challenges.respond(device, challenge.id, "maybe", None)
    with pytest.raises(ValueError):
        challenges.respond(device, challenge.id, "approve", None)
    with pytest.raises(ValueError):
        challenges.respond(device, challenge.id, "approve", "  ")
    assert store.get(challenge.id).status == PENDING


@pytest.mark.django_db(transaction=True)
def test_200_concurrent_device_responses_change_it_once(store, user, device, browser, monkeypatch):
    if store.alias in ("redis", "sentinel"):  # django-redis's pool (the cluster client's has no limit)
        from django_redis import get_redis_connection

        monkeypatch.setattr(get_redis_connection(store.alias).connection_pool, "max_connections", 1000)
    challenge = challenges.start_push(browser(), user)
    barrier = threading.Barrier(200)
    outcomes = []

    def answer(i):
        barrier.wait()
        try:
            number = challenge.display_number if i % 3 else wrong(challenge)
            outcomes.append(challenges.respond(device, challenge.id, "approve", number).status)
        except (ChallengeResolved, WrongNumber) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    changed = [o for o in outcomes if o in (APPROVED, "WrongNumber")]
    assert len(outcomes) == 200 and len(changed) == 1
    assert outcomes.count("ChallengeResolved") == 199
    approvals = SecurityEvent.objects.filter(kind__in=["push_approved", "push_mfa_wrong_number"]).count()
    assert approvals == 1


# --- fatigue ---------------------------------------------------------------------------------------
def test_rate_limit_per_user(store, user, device, browser, settings):
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (5, 900)
    request = browser()
    for _ in range(5):
        challenges.start_push(request, user)
    for _ in range(3):
        with pytest.raises(RateLimited) as exc:
            challenges.start_push(request, user)
        assert exc.value.scope == "user" and exc.value.retry_after > 800
    [event] = events(SecurityEvent.Kind.RATE_LIMITED)  # once per window, not per hit
    assert event.detail["scope"] == "user"
    assert len(locmem.outbox) == 5


def test_rate_limit_per_ip(store, user, device, browser, settings, user_factory, device_factory):
    settings.PUSHMFA_PUSH_RATE_LIMIT_IP = (2, 60)
    other = user_factory("bob")
    device_factory(other)
    challenges.start_push(browser(), user)
    challenges.start_push(browser(), other)
    with pytest.raises(RateLimited) as exc:
        challenges.start_push(browser(), user)
    assert exc.value.scope == "ip"
    challenges.start_push(browser(ip="203.0.113.200"), user)  # another IP is fine


def test_suspension_after_denials(store, user, device, browser, caught):
    for i in range(3):
        challenge = challenges.start_push(browser(), user)
        if i == 1:
            with pytest.raises(WrongNumber):  # wrong numbers count with denials
                challenges.respond(device, challenge.id, "approve", wrong(challenge))
        else:
            challenges.respond(device, challenge.id, "deny", None)
        assert bool(events(SecurityEvent.Kind.PUSH_SUSPENDED)) == (i == 2)
    with pytest.raises(PushSuspended) as exc:
        challenges.start_push(browser(), user)
    assert 3590 <= exc.value.retry_after <= 3600
    assert 3590 <= fatigue.suspension_remaining(user) <= 3600
    [suspended] = caught["push_suspended"]
    assert suspended["user"] == user and suspended["reason"] == "denials"
    [event] = events(SecurityEvent.Kind.PUSH_SUSPENDED)
    assert event.detail["reason"] == "denials"
    assert [m.subject for m in mail.outbox if "paused" in m.subject]


def test_report_suspends_at_once(store, user, device, browser, caught, settings):
    challenge = challenges.start_push(browser(), user)
    challenges.respond(device, challenge.id, "report", None)
    assert caught["push_suspended"][0]["reason"] == "reported"
    with pytest.raises(PushSuspended):
        challenges.start_push(browser(), user)
    settings.PUSHMFA_ALERTS = {"push_suspended": False}
    assert not [m for m in mail.outbox if "reported" in m.body and m.to != [user.email]]


def test_alerts_can_be_turned_off(store, user, device, browser, settings):
    settings.PUSHMFA_ALERTS = {"wrong_number": False, "push_suspended": False}
    settings.PUSHMFA_SUSPEND_AFTER_DENIALS = 1
    challenge = challenges.start_push(browser(), user)
    with pytest.raises(WrongNumber):
        challenges.respond(device, challenge.id, "approve", wrong(challenge))
    assert mail.outbox == []
    assert events(SecurityEvent.Kind.PUSH_SUSPENDED)


def test_store_outage_fails_closed(user, device, browser, settings):
    settings.CACHES = {
        **settings.CACHES,
        "down": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                 "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}},
    }
    settings.PUSHMFA_CACHE_ALIAS = "down"
    settings.PUSHMFA_CHALLENGE_STORE = None
    from django_pushmfa.exceptions import ChallengeStoreUnavailable

    with pytest.raises(ChallengeStoreUnavailable):
        challenges.start_push(browser(), user)
    with pytest.raises(ChallengeStoreUnavailable):
        challenges.get_for_device(device, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(ChallengeStoreUnavailable):
        challenges.respond(device, "00000000-0000-4000-8000-000000000000", "deny", None)
    assert locmem.outbox == []


def test_long_poll_windows_are_spread_out(settings):
    # Re-polls of browsers that began waiting together do not come back together.
    settings.PUSHMFA_LONG_POLL_MAX_WAIT = 30
    settings.PUSHMFA_LONG_POLL_JITTER = 0.2
    waits = [challenges._wait_seconds(30) for _ in range(200)]
    assert all(24.0 <= w <= 30.0 for w in waits)
    assert max(waits) - min(waits) > 3  # 200 draws over 6 s: never bunched
    assert challenges._wait_seconds(0) == 0
    assert challenges._wait_seconds(99) <= 30
    settings.PUSHMFA_LONG_POLL_JITTER = 0
    assert {challenges._wait_seconds(30) for _ in range(20)} == {30.0}
