"""Security events in plain words (django_pushmfa.activity), for a site's activity list."""
from __future__ import annotations

import pytest

from django_pushmfa import services
from django_pushmfa.activity import describe
from django_pushmfa.models import MFACredential, PushDevice, SecurityEvent

pytestmark = pytest.mark.django_db
Kind = SecurityEvent.Kind


def _phone(user, name="Pixel 8"):
    credential = services.add_credential(user, MFACredential.Method.PUSH)
    PushDevice.objects.create(credential=credential, platform="fcm", push_token="t", public_key=b"k",
                              key_type="p256", name=name)
    return credential


def _described(user):
    events = SecurityEvent.objects.filter(user=user).select_related("actor", "credential__push_device")
    return [describe(e) for e in events.order_by("id")]


def test_three_added_methods_read_as_three_different_things(user):
    services.add_credential(user, MFACredential.Method.TOTP, label="Work phone")
    _phone(user)
    services.add_credential(user, MFACredential.Method.BACKUP_CODES)
    titles = [a.title for a in _described(user)]
    assert titles == ["Added an authenticator app", "Added your phone", "Added backup codes"]
    assert _described(user)[0].details == ["“Work phone”"]


def test_push_answers_name_the_phone_and_flag_what_needs_a_look(user, staff_user):
    credential = _phone(user, name="Alice's Pixel")
    services.record_event(user, Kind.WRONG_NUMBER, credential=credential, ip="203.0.113.5", challenge_id="x")
    services.record_event(user, Kind.PUSH_APPROVED, credential=credential)
    services.revoke_credential(credential, actor=staff_user, reason="lost")
    wrong, approved, revoked = _described(user)[1:]
    assert wrong.title == "A wrong number was picked on Alice's Pixel" and wrong.warning
    assert wrong.details == ["from 203.0.113.5"]
    assert approved.title == "Sign-in approved on Alice's Pixel" and not approved.warning
    assert revoked.title == "Removed your phone" and "by staff member admin" in revoked.details


def test_query_free_with_select_related(user, django_assert_num_queries):
    credential = _phone(user)
    services.record_event(user, Kind.MFA_COMPLETED, credential=credential, method="push")
    events = list(SecurityEvent.objects.filter(user=user).select_related("actor", "credential__push_device"))
    with django_assert_num_queries(0):
        assert [describe(e).title for e in events] == ["Signed in with your phone", "Added your phone"]
