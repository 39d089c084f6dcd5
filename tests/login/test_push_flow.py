"""Push login end to end with the test client and the reference phone: password → push → approve →
the browser's poll logs the session in, exactly once, for this browser only."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from django_pushmfa.internal import pending
from django_pushmfa.models import MFACredential, SecurityEvent

from .conftest import HTML, JSON, poll

pytestmark = pytest.mark.django_db

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def phone(user, add_phone, add_totp):
    phone = add_phone(user)
    add_totp(user)  # a fallback beside push
    return phone


@pytest.fixture
def browser(user, phone, login_with_password):
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": "correct horse battery staple", "csrfmiddlewaretoken": token,
         "next": "/private/"},
    )
    assert response.status_code == 302
    return client


def start(client):
    return client.post(
        reverse("pushmfa:api-push-start"),
        {},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        **JSON,
    )


def test_full_push_login(browser, user, phone):
    key_before = browser.session.session_key
    response = start(browser)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"challenge_id", "display_number", "expires_at", "poll_url"}
    assert UUID_RE.match(body["challenge_id"])
    assert re.fullmatch(r"\d{2}", body["display_number"])
    assert datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).tzinfo is not None
    assert body["poll_url"] == f"/mfa/api/push/{body['challenge_id']}/"

    assert poll(browser, body["poll_url"]).json() == {"status": "pending"}
    assert poll(browser, body["poll_url"], wait=0).json() == {"status": "pending"}

    listed = phone.challenges()
    assert [c["challenge_id"] for c in listed] == [body["challenge_id"]]
    assert body["display_number"] in listed[0]["choices"]
    assert phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"]) == {
        "status": "approved"
    }

    response = poll(browser, body["poll_url"], wait=5)
    assert response.status_code == 200
    assert response.json() == {"status": "approved", "redirect_url": "/private/"}
    assert browser.session.session_key != key_before
    assert browser.session[SESSION_KEY] == str(user.pk)
    assert pending.PENDING_KEY not in browser.session
    assert browser.get("/private/", **HTML).status_code == 200
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.MFA_COMPLETED)
    assert event.detail == {"method": "push"}
    push_credential = MFACredential.objects.get(user=user, method="push")
    assert event.credential == push_credential
    push_credential.refresh_from_db()
    assert push_credential.last_used_at is not None

    # Consumed once: the same browser's next poll logs nobody in again.
    assert poll(browser, body["poll_url"]).json() == {"status": "consumed"}
    assert poll(browser, body["poll_url"], wait=3).json() == {"status": "consumed"}
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.MFA_COMPLETED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_long_poll_returns_when_answered(browser, phone):
    """The phone answers from another thread while the browser's poll waits: it returns at once.

    (SQLite's shared in-memory test database locks tables across threads; the same wake-up is
    tested on both configurations through the async view in test_push_poll_async.)
    """
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("needs a database that allows concurrent writers from two threads")
    import threading
    import time

    body = start(browser).json()
    challenge_id, number = body["challenge_id"], body["display_number"]

    def answer():
        from django.db import connection

        try:
            phone.respond(challenge_id, "approve", selected_number=number)
        finally:
            connection.close()  # this thread's own connection, or the test database cannot be dropped

    timer = threading.Timer(0.3, answer)
    timer.start()
    began = time.monotonic()
    try:
        response = poll(browser, body["poll_url"], wait=20)
    finally:
        timer.join()
    assert response.json()["status"] == "approved"
    assert time.monotonic() - began < 15  # generous: woken by the answer, not by the timeout


def test_wrong_number_denies(browser, phone, user):
    from django_pushmfa.testing.phone import PhoneAPIError

    body = start(browser).json()
    wrong = next(c for c in phone.challenge(body["challenge_id"])["choices"] if c != body["display_number"])
    with pytest.raises(PhoneAPIError) as excinfo:
        phone.respond(body["challenge_id"], "approve", selected_number=wrong)
    assert excinfo.value.code == "wrong_number"
    # The page says what happened: the poll tells a wrong number from a denial (a page extension).
    assert poll(browser, body["poll_url"], wait=2).json() == {"status": "denied", "reason": "wrong_number"}
    assert SESSION_KEY not in browser.session
    assert browser.get("/private/", **HTML)["Location"].startswith("/mfa/authenticate/")


def test_deny(browser, phone):
    body = start(browser).json()
    phone.respond(body["challenge_id"], "deny")
    assert poll(browser, body["poll_url"]).json() == {"status": "denied", "reason": "denied"}
    assert SESSION_KEY not in browser.session


def test_another_session_cannot_poll(browser, phone, user, login_with_password):
    body = start(browser).json()
    other = Client()
    login_with_password(other, user)  # same user, another browser, its own login in progress
    response = poll(other, body["poll_url"])
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    response = poll(other, body["poll_url"])
    assert response.status_code == 404
    assert SESSION_KEY not in other.session
    # A session with nothing in progress is told so.
    response = poll(Client(), body["poll_url"])
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"
    # The right browser still gets it.
    assert poll(browser, body["poll_url"]).json()["status"] == "approved"


@pytest.mark.parametrize("bad", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "x" * 300])
def test_unknown_challenge_ids(browser, bad):
    response = poll(browser, f"/mfa/api/push/{bad}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("wait", ["-1", "1.5", "abc", "²", " "])
def test_bad_wait(browser, wait):
    body = start(browser).json()
    response = browser.get(body["poll_url"], {"wait": wait}, **JSON)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_large_wait_counts_as_the_maximum(browser, phone, settings):
    settings.PUSHMFA_LONG_POLL_MAX_WAIT = 1
    body = start(browser).json()
    response = poll(browser, body["poll_url"], wait=999999999999)
    assert response.status_code == 200 and response.json() == {"status": "pending"}


def test_expired_challenge(browser, phone, settings):
    settings.PUSHMFA_CHALLENGE_TTL = 0
    body = start(browser).json()
    assert poll(browser, body["poll_url"]).json() == {"status": "expired"}


def test_start_needs_csrf(browser):
    response = browser.post(reverse("pushmfa:api-push-start"), {}, content_type="application/json", **JSON)
    assert response.status_code == 403
    assert SecurityEvent.objects.filter(kind="push_approved").count() == 0


def test_start_without_push_device(client, user, add_totp, login_with_password):
    add_totp(user)
    login_with_password(client, user)
    response = client.post(reverse("pushmfa:api-push-start"), {}, content_type="application/json", **JSON)
    assert response.status_code == 409 and response.json()["code"] == "no_push_device"


@pytest.mark.parametrize("body", ["[]", '"x"', '{"remember_browser": "yes"}', "{not json"])
def test_start_bad_bodies(client, user, phone, login_with_password, body):
    login_with_password(client, user)
    response = client.post(reverse("pushmfa:api-push-start"), body, content_type="application/json", **JSON)
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "parse_error")


def test_approval_after_the_login_completed_otherwise_logs_nobody_in(browser, phone, user, add_totp):
    import pyotp

    from django_pushmfa.adapter import get_adapter
    from django_pushmfa.models import TOTPDevice

    body = start(browser).json()
    secret = get_adapter().decrypt_secret(TOTPDevice.objects.get(credential__user=user).encrypted_secret)
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/mfa/authenticate/", {"action": "totp", "code": pyotp.TOTP(secret).now(), "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    # #19: the step TOTP finished ended its push: the phone is told it was already handled, and the
    # log holds no push approval or push completion for a sign-in TOTP did.
    from django_pushmfa.testing.phone import PhoneAPIError

    with pytest.raises(PhoneAPIError) as refused:
        phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    assert refused.value.code == "challenge_resolved"
    assert phone.challenges() == []
    assert poll(browser, body["poll_url"]).json() == {"status": "consumed"}
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.MFA_COMPLETED).count() == 1
    assert not SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.PUSH_APPROVED).exists()


def test_remember_browser(browser, phone, user, settings):
    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    response = browser.post(
        reverse("pushmfa:api-push-start"),
        {"remember_browser": True},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
        **JSON,
    )
    body = response.json()
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    response = poll(browser, body["poll_url"])
    assert response.json()["status"] == "approved"
    assert response.cookies["pushmfa_trust"]["max-age"] == 30 * 86400
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.BROWSER_TRUSTED).count() == 1
    # Next password login from this browser skips the MFA step.
    browser.post("/accounts/logout/", HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    fresh = Client()
    fresh.cookies["pushmfa_trust"] = response.cookies["pushmfa_trust"].value
    fresh.post("/accounts/login/", {"username": user.username, "password": "correct horse battery staple"})
    assert fresh.session[SESSION_KEY] == str(user.pk)


@pytest.mark.django_db(transaction=True)
def test_trust_ticked_while_the_poll_waits(browser, phone, user, settings):
    """The page posts "Trust this browser" (action=remember) while its long-poll waits: the poll,
    which loaded the session before, reads the choice again when it sees the approval."""
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("needs a database that allows concurrent writers from two threads")
    import threading

    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    body = start(browser).json()
    same_browser = Client(enforce_csrf_checks=True)
    same_browser.cookies = browser.cookies  # another tab of this browser: same session
    answers = []

    def tick_then_approve():
        from django.db import connection

        try:
            answers.append(same_browser.post(reverse("pushmfa:authenticate"), {
                "action": "remember", "remember": "on", "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
            }).status_code)
            phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
        finally:
            connection.close()

    timer = threading.Timer(0.5, tick_then_approve)
    timer.start()
    try:
        response = poll(browser, body["poll_url"], wait=20)
    finally:
        timer.join()
    assert answers == [204]
    assert response.json()["status"] == "approved"
    assert response.cookies["pushmfa_trust"]["max-age"] == 30 * 86400
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.BROWSER_TRUSTED).count() == 1


def test_remember_action_needs_the_feature(browser, settings):
    from django_pushmfa.internal.login import REMEMBER_KEY

    settings.PUSHMFA_TRUST_BROWSER_DAYS = 0
    token = browser.cookies["csrftoken"].value
    response = browser.post(reverse("pushmfa:authenticate"), {"action": "remember", "remember": "on",
                                                                "csrfmiddlewaretoken": token})
    assert response.status_code == 204 and not browser.session.get(REMEMBER_KEY)
