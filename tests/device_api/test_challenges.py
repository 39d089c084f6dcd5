"""Challenge list / detail / respond through the reference phone client, and unregistering."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from django_pushmfa.models import MFACredential, PushDevice, SecurityEvent
from django_pushmfa.push.store import get_store
from django_pushmfa.testing.phone import PhoneAPIError

PUSH_START = "/mfa/api/push/"


@pytest.fixture
def browser(db, user, password):
    """A browser that did the password step of ``user`` (who must have a phone by then)."""

    def start():
        client = Client()
        client.post("/accounts/login/", {"username": user.username, "password": password})
        response = client.post(PUSH_START, {}, content_type="application/json")
        assert response.status_code == 201, response.content
        return client, response.json()

    return start


def poll(client, challenge):
    return client.get(f"{PUSH_START}{challenge['challenge_id']}/").json()


def wrong_number(display):
    return f"{(int(display) + 1) % 100:02d}"


def api_error(call, *args, **kwargs):
    with pytest.raises(PhoneAPIError) as err:
        call(*args, **kwargs)
    return err.value.status, err.value.code


@pytest.mark.django_db
def test_list_and_detail(phone, browser):
    client, started = browser()
    listed = phone.challenges()
    assert [c["challenge_id"] for c in listed] == [started["challenge_id"]]
    detail = phone.challenge(started["challenge_id"])
    assert detail == listed[0]
    assert set(detail) == {"challenge_id", "choices", "context", "expires_at"}
    assert set(detail["context"]) == {
        "location", "ip", "browser", "os", "requested_at", "site_name", "purpose", "service"
    }
    assert detail["context"]["purpose"] == "login"
    assert started["display_number"] in detail["choices"]
    assert "display_number" not in detail


@pytest.mark.django_db
def test_approve_with_right_number_logs_browser_in(phone, browser, user):
    client, started = browser()
    assert poll(client, started)["status"] == "pending"
    assert phone.respond(started["challenge_id"], "approve", started["display_number"]) == {"status": "approved"}
    answer = poll(client, started)
    assert answer["status"] == "approved" and "redirect_url" in answer
    assert client.get("/api/whoami/").json().get("username") == user.username
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PUSH_APPROVED).count() == 1
    # Exactly one response ever changes a challenge.
    assert api_error(phone.respond, started["challenge_id"], "deny") == (409, "challenge_resolved")


@pytest.mark.django_db
def test_wrong_number_denies_for_good(phone, browser):
    client, started = browser()
    cid = started["challenge_id"]
    assert api_error(phone.respond, cid, "approve", wrong_number(started["display_number"])) == (409, "wrong_number")
    assert poll(client, started)["status"] == "denied"
    assert api_error(phone.respond, cid, "approve", started["display_number"]) == (409, "challenge_resolved")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.WRONG_NUMBER).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("decision,kind", [("deny", "push_denied"), ("report", "push_reported")])
def test_deny_and_report(phone, browser, decision, kind):
    client, started = browser()
    assert phone.respond(started["challenge_id"], decision) == {"status": "denied"}
    assert poll(client, started)["status"] == "denied"
    assert SecurityEvent.objects.filter(kind=kind).count() == 1
    assert api_error(phone.respond, started["challenge_id"], "deny") == (409, "challenge_resolved")


@pytest.mark.django_db
def test_report_suspends_push(phone, browser, user, password):
    _client, started = browser()
    phone.respond(started["challenge_id"], "report")
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": password})
    response = client.post(PUSH_START, {}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (423, "push_suspended")


@pytest.mark.django_db
def test_other_users_challenge_is_not_found(phone, browser, make_phone, user_factory):
    _client, started = browser()
    bob_phone = make_phone(user_factory("bob"))
    assert bob_phone.challenges() == []
    cid = started["challenge_id"]
    assert api_error(bob_phone.challenge, cid) == (404, "not_found")
    assert api_error(bob_phone.respond, cid, "approve", started["display_number"]) == (404, "not_found")
    assert phone.challenge(cid)["challenge_id"] == cid  # untouched, still pending


@pytest.mark.django_db
def test_expired_challenge_is_gone(phone, browser):
    client, started = browser()
    cid = started["challenge_id"]
    assert get_store().transition(cid, "pending", "expired") is not None
    assert api_error(phone.challenge, cid) == (410, "challenge_expired")
    assert api_error(phone.respond, cid, "approve", started["display_number"]) == (410, "challenge_expired")
    assert poll(client, started)["status"] == "expired"
    assert phone.challenges() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_id", ["not-a-uuid", "1234", "0" * 36, "%00", "..", "A" * 300, "6B1F8A0E-2A7C-4F51-9B7E-2F0C7C1D9E11"]
)
def test_non_uuid_ids_are_not_found(phone, bad_id):
    assert api_error(phone.challenge, bad_id) == (404, "not_found")
    assert api_error(phone.respond, bad_id, "deny") == (404, "not_found")


@pytest.mark.django_db
def test_unknown_uuid_is_not_found(phone):
    assert api_error(phone.challenge, "6b1f8a0e-2a7c-4f51-9b7e-2f0c7c1d9e11") == (404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"decision": "approve"},
        {"decision": "approve", "selected_number": None},
        {"decision": "approve", "selected_number": ""},
        {"decision": "approve", "selected_number": 47},
        {"decision": "approve", "selected_number": "4 7"},
        {"decision": "maybe"},
        {},
        ["approve"],
    ],
)
def test_malformed_responses_change_nothing(phone, browser, payload):
    client, started = browser()
    response = phone.request("POST", f"device/challenges/{started['challenge_id']}/respond/", payload)
    assert response.status == 400
    assert response.json()["code"] == "invalid"
    assert poll(client, started)["status"] == "pending"
    assert phone.respond(started["challenge_id"], "approve", started["display_number"])["status"] == "approved"


@pytest.mark.django_db
@override_settings(PUSHMFA_NUMBER_MODE="entry")
def test_entry_mode_has_no_choices(phone, browser):
    _client, started = browser()
    detail = phone.challenge(started["challenge_id"])
    assert detail["choices"] is None
    assert phone.respond(started["challenge_id"], "approve", started["display_number"])["status"] == "approved"


@pytest.mark.django_db
def test_device_calls_stay_within_three_statements(phone, browser, assert_max_statements):
    _client, started = browser()
    cid = started["challenge_id"]
    with assert_max_statements(3):
        phone.challenges()
    with assert_max_statements(3):
        phone.challenge(cid)
    with assert_max_statements(3):
        phone.respond(cid, "approve", started["display_number"])
    with assert_max_statements(3):
        phone.rotate_push_token("another-token")


@pytest.mark.django_db
def test_stale_device_calls_stay_within_three_statements(phone, browser, assert_max_statements):
    """Even when last_seen_at must be written, a call costs at most three statements."""
    from datetime import timedelta

    from django.utils import timezone

    _client, started = browser()
    cid = started["challenge_id"]
    stale = timezone.now() - timedelta(minutes=10)
    for call in (
        lambda: phone.challenges(),
        lambda: phone.challenge(cid),
        lambda: phone.rotate_push_token(f"token-{stale.timestamp()}"),
        lambda: phone.respond(cid, "deny"),
    ):
        PushDevice.objects.filter(pk=phone.device_id).update(last_seen_at=stale)
        with assert_max_statements(3):
            call()
        assert PushDevice.objects.get(pk=phone.device_id).last_seen_at > stale


@pytest.mark.django_db
def test_an_answer_right_after_the_fetch_writes_only_its_event(phone, browser):
    """The fetch a moment before stamped last_seen_at: the answer's one write is its event (one commit)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _client, started = browser()
    cid = started["challenge_id"]
    phone.challenge(cid)
    seen = PushDevice.objects.get(pk=phone.device_id).last_seen_at
    with CaptureQueriesContext(connection) as queries:
        phone.respond(cid, "approve", selected_number=started["display_number"])
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and writes[0].startswith('INSERT INTO "pushmfa_securityevent"'), writes
    assert PushDevice.objects.get(pk=phone.device_id).last_seen_at == seen


# --- unregister ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_unregister_revokes_and_stops_the_key(phone, user, assert_max_statements):
    with assert_max_statements(10):
        phone.unregister()
    credential = MFACredential.objects.get(pk=phone.device_id)
    assert credential.revoked_at is not None
    assert credential.revoke_reason == "unregistered by device"
    kinds = list(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert SecurityEvent.Kind.DEVICE_UNREGISTERED in kinds and SecurityEvent.Kind.CREDENTIAL_REVOKED in kinds
    assert api_error(phone.challenges) == (401, "invalid_signature")
    assert api_error(phone.unregister) == (401, "invalid_signature")
