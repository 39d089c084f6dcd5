"""push.internal.delivery.send_challenge: who gets a push, what it says, and how failures end."""
from __future__ import annotations

import hashlib
import json
import logging
import time

import pytest
from django.test import override_settings
from django.utils import timezone

from django_pushmfa.models import PushDevice, SecurityEvent
from django_pushmfa.push.backends import locmem
from django_pushmfa.push.internal import delivery

pytestmark = pytest.mark.django_db

LOCMEM = {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"}


def failing(error, tokens=None):
    options = {"ERROR": error}
    if tokens is not None:
        options["TOKENS"] = tokens
    return {"BACKEND": "tests.push_delivery.backends.FailingBackend", "OPTIONS": options}


def test_sends_to_every_active_device_on_both_platforms(user, push_device_factory, make_challenge):
    android = push_device_factory(user, "fcm")
    iphone = push_device_factory(user, "apns")
    challenge = make_challenge(user)

    results = delivery.send_challenge(challenge, [android, iphone])

    assert [(r.device_id, r.platform, r.ok) for r in results] == [
        (android.device_id, "fcm", True),
        (iphone.device_id, "apns", True),
    ]
    assert sorted((m.platform, m.device_token) for m in locmem.outbox) == sorted(
        [("fcm", android.push_token), ("apns", iphone.push_token)]
    )


def test_message_content_has_the_challenge_id_and_no_answer(user, push_device_factory, make_challenge):
    device = push_device_factory(user)
    challenge = make_challenge(user, window=90, location="Porto, Portugal", display_number="47")
    challenge.choices = ["12", "47", "83"]

    delivery.send_challenge(challenge, [device])

    [message] = locmem.outbox
    assert message.title == "Login request"
    assert message.body == "New login from Porto, Portugal"
    assert message.data == {"type": "pushmfa.challenge", "challenge_id": challenge.id, "purpose": "login"}
    assert message.challenge_id == challenge.id
    assert message.priority == "high"
    assert 88 <= message.ttl <= 90
    # No number anywhere in what leaves the server: not the display number, not the decoys.
    wire = json.dumps([message.title, message.body, message.data, message.collapse_id])
    for number in ("47", "12", "83"):
        assert number not in wire.replace(challenge.id, "").replace(message.collapse_id, "")
    assert "47" not in json.dumps(message.data).replace(challenge.id, "")


def test_unknown_location_and_minimum_ttl(user, push_device_factory, make_challenge):
    device = push_device_factory(user)
    challenge = make_challenge(user, location=None)
    challenge.expires_at = time.time() - 5  # already past: the provider still gets a valid TTL

    delivery.send_challenge(challenge, [device])

    [message] = locmem.outbox
    assert message.body == "New login from unknown location"
    assert message.ttl == 1


def test_collapse_id_is_stable_per_user_and_hides_the_user_id(user_factory, push_device_factory, make_challenge):
    alice, bob = user_factory("al"), user_factory("bo")
    a1, b1 = push_device_factory(alice), push_device_factory(bob)

    delivery.send_challenge(make_challenge(alice), [a1])
    delivery.send_challenge(make_challenge(alice), [a1])
    delivery.send_challenge(make_challenge(bob), [b1])

    first, second, other = (m.collapse_id for m in locmem.outbox)
    assert first == second != other
    assert first.startswith("pushmfa-") and len(first) <= 64
    # Keyed with SECRET_KEY, so it cannot be reversed to the (small integer) user id by hashing guesses.
    assert first not in {f"pushmfa-{alice.pk}", "pushmfa-" + hashlib.sha256(str(alice.pk).encode()).hexdigest()[:16]}
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-0123456789abcdef"):
        assert delivery.collapse_id_for(alice.pk) != first


def test_skips_revoked_and_dead_devices(user, push_device_factory, make_challenge, django_assert_num_queries):
    live = push_device_factory(user)
    dead = push_device_factory(user, token_dead_at=timezone.now())
    revoked = push_device_factory(user)
    revoked.credential.revoked_at = timezone.now()
    revoked.credential.save()
    devices = list(PushDevice.objects.filter(pk__in=[live.pk, dead.pk, revoked.pk]))  # credentials not loaded

    with django_assert_num_queries(1):  # one query for the revocation state of all of them
        results = delivery.send_challenge(make_challenge(user), devices)

    assert [r.device_id for r in results] == [live.device_id]
    assert [m.device_token for m in locmem.outbox] == [live.push_token]


def test_no_query_when_credentials_are_loaded(user, push_device_factory, make_challenge, django_assert_num_queries):
    push_device_factory(user)
    devices = list(PushDevice.objects.select_related("credential"))
    with django_assert_num_queries(0):
        delivery.send_challenge(make_challenge(user), devices)
    assert len(locmem.outbox) == 1


def test_unregistered_token_marks_the_device_dead_and_records_an_event(
    user, push_device_factory, make_challenge, settings
):
    good = push_device_factory(user, "fcm")
    gone = push_device_factory(user, "fcm")
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": failing("unregistered", tokens=[gone.push_token]), "apns": LOCMEM}

    results = delivery.send_challenge(make_challenge(user), [good, gone])

    by_id = {r.device_id: r for r in results}
    assert by_id[good.device_id].ok and not by_id[good.device_id].token_dead
    assert not by_id[gone.device_id].ok and by_id[gone.device_id].token_dead
    assert by_id[gone.device_id].provider_code == "UNREGISTERED"
    gone.refresh_from_db()
    good.refresh_from_db()
    assert gone.token_dead_at is not None and good.token_dead_at is None
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PUSH_TOKEN_DEAD)
    assert event.user == user and event.credential_id == gone.credential_id
    assert event.detail == {"platform": "fcm", "provider_code": "UNREGISTERED"}
    assert gone.push_token not in json.dumps(event.detail)

    # The dead device is skipped next time.
    locmem.outbox.clear()
    gone.refresh_from_db()
    results = delivery.send_challenge(make_challenge(user), [good, gone])
    assert [r.device_id for r in results] == [good.device_id]


def test_a_rotated_token_is_not_marked_dead(user, push_device_factory, make_challenge, settings):
    device = push_device_factory(user, "fcm")
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": failing("unregistered"), "apns": LOCMEM}
    stale = PushDevice.objects.get(pk=device.pk)
    PushDevice.objects.filter(pk=device.pk).update(push_token="fresh-token")  # the app rotated it meanwhile

    [result] = delivery.send_challenge(make_challenge(user), [stale])

    assert not result.ok and not result.token_dead
    device.refresh_from_db()
    assert device.token_dead_at is None
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PUSH_TOKEN_DEAD).exists()


@pytest.mark.parametrize(
    "error, provider_code", [("temporary", "UNAVAILABLE"), ("config", "THIRD_PARTY_AUTH_ERROR"), ("crash", "crash")]
)
def test_other_failures_are_logged_once_and_never_raise(
    user, push_device_factory, make_challenge, settings, caplog, error, provider_code
):
    device = push_device_factory(user, "apns")
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": LOCMEM, "apns": failing(error)}
    challenge = make_challenge(user)

    with caplog.at_level(logging.WARNING, logger="django_pushmfa.push"):
        [result] = delivery.send_challenge(challenge, [device])

    assert not result.ok and not result.token_dead
    assert result.provider_code == provider_code
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert provider_code in warnings[0].getMessage()
    assert device.device_id in warnings[0].getMessage()
    assert all(device.push_token not in r.getMessage() for r in caplog.records)
    device.refresh_from_db()
    assert device.token_dead_at is None


def test_unusable_backend_configuration_does_not_raise(user, push_device_factory, make_challenge, settings):
    fcm_device = push_device_factory(user, "fcm")
    apns_device = push_device_factory(user, "apns")
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": {"BACKEND": "no.such.Backend"}, "apns": LOCMEM}

    results = delivery.send_challenge(make_challenge(user), [fcm_device, apns_device])

    assert [(r.platform, r.ok, r.provider_code) for r in results] == [
        ("fcm", False, "backend_unusable"),
        ("apns", True, None),
    ]
    assert [m.platform for m in locmem.outbox] == ["apns"]


def test_missing_provider_library_reaches_results(user, push_device_factory, make_challenge, settings, monkeypatch):
    from django_pushmfa.exceptions import MissingProviderLibrary
    from django_pushmfa.push.backends import base

    class NeedsLibrary(base.BasePushBackend):
        def __init__(self, options):
            raise MissingProviderLibrary("pyfcm", "fcm")

    monkeypatch.setattr("tests.push_delivery.backends.NeedsLibrary", NeedsLibrary, raising=False)
    device = push_device_factory(user, "fcm")
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": {"BACKEND": "tests.push_delivery.backends.NeedsLibrary"}}

    [result] = delivery.send_challenge(make_challenge(user), [device])

    assert not result.ok
    assert isinstance(result.error, MissingProviderLibrary)
    assert 'pip install "django-pushmfa[fcm]"' in str(result.error)


def test_translated_title_and_body(user, push_device_factory, make_challenge):
    from django.utils import translation

    device = push_device_factory(user)
    with translation.override("de"):
        delivery.send_challenge(make_challenge(user, location=None), [device])
    [message] = locmem.outbox
    # Without a catalogue for the language, the English text is used (never an error or a blank).
    assert message.title and message.body


@override_settings(PUSHMFA_PUSH_BACKENDS={"fcm": LOCMEM, "apns": LOCMEM})
def test_wait_for_message_wakes_on_arrival(user, push_device_factory, make_challenge):
    import threading

    device = push_device_factory(user)
    challenge = make_challenge(user)
    got = {}

    def phone():
        got["message"] = locmem.wait_for_message(lambda m: m.challenge_id == challenge.id, timeout=10)

    waiter = threading.Thread(target=phone)
    waiter.start()
    time.sleep(0.05)
    started = time.monotonic()
    delivery.send_challenge(challenge, [device])
    waiter.join(10)
    assert got["message"].challenge_id == challenge.id
    assert time.monotonic() - started < 5
    assert locmem.wait_for_message(lambda m: m.challenge_id == "other", timeout=0.01) is None
