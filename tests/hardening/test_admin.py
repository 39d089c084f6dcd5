"""The admin and revocation: a staff member mid-MFA is nobody to the admin; revocation bites at once."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from .conftest import enroll_totp, is_logged_in, password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_pending(client, staff_user, password):
    enroll_totp(staff_user)
    response = password_login(client, staff_user, password, path="/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert not is_logged_in(client)
    return client


@pytest.mark.parametrize("path", ["/admin/", "/admin/auth/user/", "/admin/pushmfa/mfacredential/"])
@pytest.mark.parametrize("accept", ["text/html", "application/json", "*/*"])
def test_pending_staff_cannot_reach_admin_pages(staff_pending, path, accept):
    response = staff_pending.get(path, HTTP_ACCEPT=accept)
    assert response.status_code == 302
    assert response["Location"].startswith(("/mfa/", "/admin/login/"))
    assert not is_logged_in(staff_pending)


def test_pending_staff_cannot_change_anything_through_the_admin(staff_pending):
    User = get_user_model()
    before = User.objects.count()
    response = staff_pending.post(
        "/admin/auth/user/add/", {"username": "mallory", "password1": "x-Pa55word!x", "password2": "x-Pa55word!x"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert User.objects.count() == before


def test_pending_staff_gets_mfa_required_from_the_account_api(staff_pending):
    response = staff_pending.get("/mfa/api/credentials/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


# --- revocation takes effect on the next request --------------------------------------------------
def test_revoked_device_is_refused_on_its_next_signed_call(push_user, staff_user, password):
    from django_pushmfa.models import MFACredential
    from django_pushmfa.services import revoke_credential

    from .conftest import new_browser, poll, start_push

    phone = push_user.phone
    browser = new_browser(push_user, password)
    started = start_push(browser)
    assert phone.challenges().status_code == 200
    revoke_credential(MFACredential.objects.get(pk=phone.device_id), actor=staff_user, reason="reported stolen")
    for response in (
        phone.challenges(),
        phone.challenge(started["challenge_id"]),
        phone.approve(started["challenge_id"], started["display_number"]),
    ):
        assert response.status_code == 401 and response.json()["code"] == "invalid_signature"
    assert poll(browser, started["challenge_id"]).json()["status"] == "pending"
    assert not is_logged_in(browser)


def test_revoked_device_through_the_account_api(push_user, account_client):
    phone = push_user.phone
    response = account_client.delete(f"/mfa/api/credentials/{phone.device_id}/")
    assert response.status_code == 204
    assert phone.challenges().status_code == 401


def test_revocation_ends_a_remembered_browser(push_user, password, settings, staff_user):
    from django_pushmfa.models import MFACredential
    from django_pushmfa.services import revoke_credential

    from .conftest import enroll_totp, json_post, new_browser, poll

    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    enroll_totp(push_user)  # a second method, so the user still has MFA after the revocation
    browser = new_browser(push_user, password)
    started = json_post(browser, "/mfa/api/push/", {"remember_browser": True}).json()
    push_user.phone.approve(started["challenge_id"], started["display_number"])
    assert poll(browser, started["challenge_id"]).json()["status"] == "approved"
    from django_pushmfa.app_settings import app_settings

    trust_cookie = browser.cookies.get(app_settings.TRUST_COOKIE_NAME)
    assert trust_cookie is not None and trust_cookie.value

    browser.post("/accounts/logout/")
    assert not is_logged_in(browser)
    # remembered: the password alone logs in
    password_login(browser, push_user, password)
    assert is_logged_in(browser)
    browser.post("/accounts/logout/")

    revoke_credential(MFACredential.objects.get(pk=push_user.phone.device_id), actor=staff_user, reason="lost")
    response = password_login(browser, push_user, password)
    assert response.status_code == 302
    assert not is_logged_in(browser)  # the MFA step is back
    assert browser.get("/private/", HTTP_ACCEPT="text/html")["Location"].startswith("/mfa/")


def test_password_change_ends_a_remembered_browser(push_user, password, settings, user_factory):
    from django_pushmfa.app_settings import app_settings

    from .conftest import json_post, new_browser, poll

    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    browser = new_browser(push_user, password)
    started = json_post(browser, "/mfa/api/push/", {"remember_browser": True}).json()
    push_user.phone.approve(started["challenge_id"], started["display_number"])
    assert poll(browser, started["challenge_id"]).json()["status"] == "approved"
    trust_cookie = browser.cookies.get(app_settings.TRUST_COOKIE_NAME).value
    browser.post("/accounts/logout/")

    # the cookie is worth nothing to another account
    from django.test import Client

    from .conftest import enroll_totp

    bob = user_factory("bob")
    enroll_totp(bob)
    thief = Client()
    thief.cookies[app_settings.TRUST_COOKIE_NAME] = trust_cookie
    password_login(thief, bob, password)
    assert not is_logged_in(thief)

    push_user.set_password("a new password 123")
    push_user.save()
    password_login(browser, push_user, "a new password 123")
    assert not is_logged_in(browser)  # the MFA step is back
