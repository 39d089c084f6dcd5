"""Enumeration at the password step: unknown users, users without MFA and users with MFA look alike.

With a wrong password nothing about the account may show (answer, cookies, timing). With the right
password the step's own answer is the same redirect for users with and without MFA; only the next page
differs, and by then the password is known.
"""
from __future__ import annotations

import re
import statistics
import time

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from .conftest import LOGIN_URL, enroll_totp

pytestmark = pytest.mark.django_db

CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')
USERNAME_VALUE = re.compile(rb'name="username" value="[^"]*"')


def _normalise(body: bytes) -> bytes:
    """The form echoes the CSRF token and the typed username; everything else must be identical."""
    return USERNAME_VALUE.sub(b'name="username" value=""', CSRF_FIELD.sub(b"CSRF", body))


def _attempt(username: str, password: str):
    client = Client()
    started = time.perf_counter()
    response = client.post(LOGIN_URL, {"username": username, "password": password})
    return response, time.perf_counter() - started


class TimingHasher(PBKDF2PasswordHasher):
    """A real key-stretching hasher (the test settings use fast MD5), cheap enough for a test: a
    login path that skipped the hasher for some accounts would stand out by ~20 ms (checked by hand
    with a backend that returns early for unknown users: the test fails)."""

    iterations = 100_000


@pytest.fixture
def accounts(user_factory, settings):
    settings.PASSWORD_HASHERS = ["tests.hardening.test_enumeration_password.TimingHasher"]
    plain = user_factory("plain")
    enrolled = user_factory("enrolled")
    enroll_totp(enrolled)
    return {"unknown": "nobody-by-this-name", "plain": plain.username, "enrolled": enrolled.username}


def test_wrong_password_answers_are_identical(accounts):
    answers = {kind: _attempt(name, "wrong password")[0] for kind, name in accounts.items()}
    statuses = {kind: r.status_code for kind, r in answers.items()}
    assert set(statuses.values()) == {200}, statuses
    bodies = {kind: _normalise(r.content) for kind, r in answers.items()}
    assert bodies["unknown"] == bodies["plain"] == bodies["enrolled"]
    cookie_names = {kind: sorted(r.cookies.keys()) for kind, r in answers.items()}
    assert cookie_names["unknown"] == cookie_names["plain"] == cookie_names["enrolled"]
    # a failed password step never starts an MFA step
    for response in answers.values():
        assert b"pushmfa" not in response.content


def test_right_password_answer_does_not_tell_whether_mfa_is_enrolled(accounts, password):
    plain, _ = _attempt(accounts["plain"], password)
    enrolled, _ = _attempt(accounts["enrolled"], password)
    assert plain.status_code == enrolled.status_code == 302
    assert plain["Location"] == enrolled["Location"]
    assert sorted(plain.cookies.keys()) == sorted(enrolled.cookies.keys())


def test_wrong_password_timing_is_alike(accounts):
    """Medians over interleaved attempts; the bound is generous (this is noise control, not a benchmark).

    Django's ModelBackend runs the password hasher for unknown users too, and the MFA lookup only
    happens after a correct password, so the three cases do the same work.
    """
    rounds = 15
    samples: dict[str, list[float]] = {kind: [] for kind in accounts}
    for kind, name in accounts.items():  # warm-up: template loading, first queries
        _attempt(name, "wrong")
    for _ in range(rounds):
        for kind, name in accounts.items():
            samples[kind].append(_attempt(name, "wrong password")[1])
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    fastest, slowest = min(medians.values()), max(medians.values())
    assert slowest <= fastest * 2 + 0.010, medians
