"""MFA fatigue and guessing: an attacker with the password cannot wear the user down or guess through.

The script plays the attacker (a loop of password logins and push starts) and the tired user (whose
phone answers each push). Pushes are counted in the locmem outbox, events in the database.
"""
from __future__ import annotations

import secrets

import pytest
from django.core import mail

from django_pushmfa.models import SecurityEvent
from django_pushmfa.push.backends import locmem

from .conftest import API, enroll_totp, is_logged_in, json_post, new_browser, poll, start_push

pytestmark = pytest.mark.django_db


def _kinds(user) -> list[str]:
    return list(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))


def test_push_loop_hits_the_rate_limit_and_keeps_one_outstanding_challenge(push_user, password, settings):
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (5, 900)
    phone = push_user.phone
    started, refused = [], []
    for attempt in range(20):
        attacker = new_browser(push_user, password)  # a fresh login each time, from rotating IPs
        response = json_post(attacker, API + "push/", REMOTE_ADDR=f"198.51.100.{attempt + 1}")
        if response.status_code == 201:
            started.append((attacker, response.json()))
        else:
            refused.append(response)
    assert len(started) == 5
    assert len(locmem.outbox) == 5  # at most the configured number of notifications reached the user
    for response in refused:
        assert response.status_code == 429
        assert response.json()["code"] == "rate_limited"
        assert int(response["Retry-After"]) > 0
    # only the newest challenge is outstanding; every older one expired when the next started
    pending = phone.challenges().json()["challenges"]
    assert [c["challenge_id"] for c in pending] == [started[-1][1]["challenge_id"]]
    for attacker, body in started[:-1]:
        assert poll(attacker, body["challenge_id"]).json()["status"] == "expired"
        assert phone.challenge(body["challenge_id"]).status_code == 410
    assert SecurityEvent.Kind.RATE_LIMITED in _kinds(push_user)


def test_per_ip_limit_covers_many_accounts(user_factory, password, settings):
    """One attacker IP spraying many accounts' pushes is stopped by the per-IP limit, spoofed headers or not."""
    settings.PUSHMFA_PUSH_RATE_LIMIT_IP = (3, 900)
    from .conftest import logged_in_client, pair_phone

    statuses = []
    for n in range(6):
        victim = user_factory(f"victim{n}")
        pair_phone(logged_in_client(victim, password))
        attacker = new_browser(victim, password)
        # a spoofed X-Forwarded-For does not make a new client: only the connection's address counts
        spoofed = f"192.0.2.{n + 1}"
        statuses.append(
            json_post(attacker, API + "push/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=spoofed).status_code
        )
    assert statuses == [201, 201, 201, 429, 429, 429]
    assert len(locmem.outbox) == 3


def test_denials_suspend_push_and_other_methods_keep_working(push_user, password, settings):
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (100, 900)
    settings.PUSHMFA_SUSPEND_AFTER_DENIALS = 3
    secret = enroll_totp(push_user)
    phone = push_user.phone
    for _ in range(3):
        attacker = new_browser(push_user, password)
        body = start_push(attacker)
        assert phone.respond(body["challenge_id"], "deny").json()["status"] == "denied"
    sent = len(locmem.outbox)
    assert sent == 3

    for _ in range(5):  # the attacker keeps trying: no notification reaches the phone any more
        attacker = new_browser(push_user, password)
        response = json_post(attacker, API + "push/")
        assert response.status_code == 423 and response.json()["code"] == "push_suspended"
        assert not is_logged_in(attacker)
    assert len(locmem.outbox) == sent
    assert SecurityEvent.Kind.PUSH_SUSPENDED in _kinds(push_user)
    assert _kinds(push_user).count(SecurityEvent.Kind.PUSH_DENIED) == 3
    assert any(push_user.email in m.to for m in mail.outbox)  # the user is told

    # the real user still gets in with another method
    import pyotp

    owner = new_browser(push_user, password)
    ok = json_post(owner, API + "totp/verify/", {"code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 200, ok.content
    assert is_logged_in(owner)


def test_one_report_suspends_push_at_once(push_user, password):
    phone = push_user.phone
    attacker = new_browser(push_user, password)
    body = start_push(attacker)
    assert phone.respond(body["challenge_id"], "report").json()["status"] == "denied"
    assert start_push(new_browser(push_user, password), expect=423)["code"] == "push_suspended"
    assert SecurityEvent.Kind.PUSH_REPORTED in _kinds(push_user)
    assert SecurityEvent.Kind.PUSH_SUSPENDED in _kinds(push_user)
    assert len(locmem.outbox) == 1


def test_random_picks_approve_about_one_in_n(push_user, password, settings):
    """A user tapping any of the N choices approves ~1/N of the attacker's pushes, never more.

    Suspension is set out of the way here to measure the odds; the next test keeps the default.
    Also checks the decoys hide the answer: the right number is not always in the same position.
    """
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (1000, 900)
    settings.PUSHMFA_PUSH_RATE_LIMIT_IP = (1000, 900)
    settings.PUSHMFA_SUSPEND_AFTER_DENIALS = 10_000
    settings.PUSHMFA_NUMBER_CHOICES = 3
    phone = push_user.phone
    rounds, approvals = 90, 0
    positions = [0, 0, 0]
    attacker = new_browser(push_user, password)
    for _ in range(rounds):
        body = start_push(attacker)
        choices = phone.challenge(body["challenge_id"]).json()["choices"]
        assert len(choices) == 3 and len(set(choices)) == 3 and body["display_number"] in choices
        positions[choices.index(body["display_number"])] += 1
        pick = secrets.choice(choices)
        answer = phone.approve(body["challenge_id"], pick)
        if pick == body["display_number"]:
            assert answer.status_code == 200
            approvals += 1
            assert poll(attacker, body["challenge_id"]).json()["status"] == "approved"
            attacker = new_browser(push_user, password)
        else:
            assert answer.status_code == 409 and answer.json()["code"] == "wrong_number"
            # no second guess: the right number now is refused too
            retry = phone.approve(body["challenge_id"], body["display_number"])
            assert retry.status_code == 409 and retry.json()["code"] == "challenge_resolved"
            assert poll(attacker, body["challenge_id"]).json()["status"] == "denied"
    # expected 30; the bound is ~4.5 standard deviations out
    assert approvals <= 50, approvals
    assert min(positions) >= 10, positions


@pytest.mark.parametrize("mode", ["entry", "choices"])
def test_random_answers_then_lock(push_user, password, settings, mode):
    """Random answers (typed, or tapped among the choices): three wrong ones in a row lock push.

    An approval ends a run of denials (the user's own logins must not add up to a lock), so the
    lock comes after three consecutive wrong answers.
    """
    settings.PUSHMFA_NUMBER_MODE = mode
    settings.PUSHMFA_SUSPEND_AFTER_DENIALS = 3
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (1000, 900)  # the lock, not the rate limit, must stop this
    phone = push_user.phone
    run = wrong = approvals = 0
    while True:
        attacker = new_browser(push_user, password)
        response = json_post(attacker, API + "push/")
        if response.status_code == 423:
            break
        assert response.status_code == 201, response.content
        assert run < 3, "three wrong answers in a row did not lock push"
        body = response.json()
        choices = phone.challenge(body["challenge_id"]).json()["choices"]
        if mode == "entry":
            assert choices is None
            guess = f"{secrets.randbelow(90) + 10}"
        else:
            guess = secrets.choice(choices)
        answer = phone.approve(body["challenge_id"], guess)
        if answer.status_code == 200:
            approvals += 1
            run = 0
        else:
            assert answer.json()["code"] == "wrong_number"
            wrong += 1
            run += 1
        # 1 in 90 (entry) or 1 in 3 (choices) per push; 40 approvals before the lock is ~1e-6 likely
        assert approvals <= 40
    assert run == 3
    assert _kinds(push_user).count(SecurityEvent.Kind.WRONG_NUMBER) == wrong
    assert SecurityEvent.Kind.PUSH_SUSPENDED in _kinds(push_user)
    sent = len(locmem.outbox)
    assert start_push(new_browser(push_user, password), expect=423)["code"] == "push_suspended"
    assert len(locmem.outbox) == sent
