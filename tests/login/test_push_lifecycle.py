"""#19 section 2, pushes that outlive their purpose: the end of the MFA step (any method, cancel,
logout, expiry) ends its push; a phone paired later is not offered older requests."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from django_pushmfa.adapter import get_adapter
from django_pushmfa.models import SecurityEvent, TOTPDevice
from django_pushmfa.testing.phone import PhoneAPIError

from .conftest import HTML
from .test_push_flow import browser, phone, start  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

CHALLENGE_ATTR = re.compile(r'data-challenge-id="([0-9a-f-]{36})"')


def csrf(client) -> str:
    return client.cookies["csrftoken"].value


def assert_already_handled(device, body) -> None:
    """The phone is offered nothing and its approval is refused; no push approval is logged."""
    assert device.challenges() == []
    with pytest.raises(PhoneAPIError) as refused:
        device.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    assert refused.value.code == "challenge_resolved"
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PUSH_APPROVED).exists()


# --- the end of the step ends its push -------------------------------------------------------------------
def test_backup_code_completion_ends_the_push(browser, user, phone):  # noqa: F811
    body = start(browser).json()
    from django_pushmfa.backup_codes.internal import flows as backup_flows

    _credential, codes = backup_flows.generate_set(None, user)
    response = browser.post(
        reverse("pushmfa:api-backup-codes-verify"),
        {"code": codes[0]},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf(browser),
    )
    assert response.status_code == 200, response.content
    assert_already_handled(phone, body)
    completed = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MFA_COMPLETED)
    assert completed.detail["method"] == "backup_code"


def test_cancel_ends_the_push(browser, phone):  # noqa: F811
    body = start(browser).json()
    cancel = {"action": "cancel", "csrfmiddlewaretoken": csrf(browser)}
    response = browser.post(reverse("pushmfa:authenticate"), cancel)
    assert response.status_code == 302
    assert_already_handled(phone, body)


def test_logout_ends_the_push(browser, phone):  # noqa: F811
    body = start(browser).json()
    browser.post("/accounts/logout/", {"csrfmiddlewaretoken": csrf(browser)})
    assert_already_handled(phone, body)


def test_push_never_outlives_the_pending_step(browser, phone, settings):  # noqa: F811
    settings.PUSHMFA_PENDING_TIMEOUT = 30  # shorter than the push's own 120 s window
    from django_pushmfa.internal import pending

    state = browser.session[pending.PENDING_KEY]
    body = start(browser).json()
    challenge = phone.challenge(body["challenge_id"])
    from datetime import datetime

    expires = datetime.fromisoformat(challenge["expires_at"].replace("Z", "+00:00")).timestamp()
    assert expires <= state["started_at"] + 30 + 0.001


def test_push_completion_itself_costs_no_extra_store_call(browser, user, phone):  # noqa: F811
    body = start(browser).json()
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    from unittest import mock

    from django_pushmfa.push.internal import challenges

    with mock.patch.object(challenges, "withdraw", side_effect=AssertionError("no withdraw for push")):
        response = browser.get(body["poll_url"], HTTP_ACCEPT="application/json")
    assert response.json()["status"] == "approved"
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PUSH_APPROVED).count() == 1


def test_totp_after_an_approval_nobody_claimed(browser, user, phone):  # noqa: F811
    """Approved on the phone, then finished with TOTP before the page polled: the approval is withdrawn
    (never completes anything later), and only the TOTP completion is logged as a completion."""
    body = start(browser).json()
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    secret = get_adapter().decrypt_secret(TOTPDevice.objects.get(credential__user=user).encrypted_secret)
    browser.post(
        reverse("pushmfa:authenticate"),
        {"action": "totp", "code": pyotp.TOTP(secret).now(), "csrfmiddlewaretoken": csrf(browser)},
    )
    assert browser.get(body["poll_url"], HTTP_ACCEPT="application/json").json() == {"status": "consumed"}
    assert [e.detail["method"] for e in SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_COMPLETED)] == [
        "totp"
    ]


# --- a phone paired later ------------------------------------------------------------------------------------
def test_phone_paired_later_is_not_offered_older_requests(browser, user, phone, add_phone):  # noqa: F811
    body = start(browser).json()
    time.sleep(0.01)
    later = add_phone(user, name="New phone")
    assert later.challenges() == []
    with pytest.raises(PhoneAPIError) as hidden:
        later.challenge(body["challenge_id"])
    assert hidden.value.code == "not_found"
    assert [c["challenge_id"] for c in phone.challenges()] == [body["challenge_id"]]
    # a push started after it paired reaches it
    again = start(browser).json()
    assert [c["challenge_id"] for c in later.challenges()] == [again["challenge_id"]]


def test_tab_that_lost_the_race_moves_on(browser, user, phone):  # noqa: F811
    """Two tabs poll the same push; one claims the approval and signs the session in. The other sees
    ``consumed`` and reloads (pushmfa.js): the page then sends it on instead of showing "expired"."""
    body = start(browser).json()
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    assert browser.get(body["poll_url"], HTTP_ACCEPT="application/json").json()["status"] == "approved"
    assert browser.get(body["poll_url"], HTTP_ACCEPT="application/json").json() == {"status": "consumed"}
    page = browser.get(reverse("pushmfa:authenticate") + "?next=/private/", **HTML)
    assert page.status_code == 302 and page["Location"] == "/private/"
    page = browser.get(reverse("pushmfa:authenticate") + "?next=https://evil.example/", **HTML)
    assert page.status_code == 302 and page["Location"] == "/"


def test_signed_out_visitor_still_goes_to_the_login_page(db):
    page = Client().get(reverse("pushmfa:authenticate"), **HTML)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
