"""The MFA step's session: CSRF on every state-changing call, no open redirect, no deactivated user."""
from __future__ import annotations

import pyotp
import pytest
from django.test import Client

from .conftest import API, is_logged_in, json_post, password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_browser(totp_user, password):
    """A browser that enforces CSRF like a real one, mid-login."""
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/", {"username": totp_user.username, "password": password, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and not is_logged_in(client)
    return client


@pytest.mark.parametrize("path", ["push/", "totp/verify/", "backup-codes/verify/", "webauthn/begin/"])
def test_browser_calls_need_the_csrf_token(csrf_browser, totp_user, path):
    code = pyotp.TOTP(totp_user.totp_secret).now()
    forged = json_post(csrf_browser, API + path, {"code": code})  # a cross-site form or fetch: no token
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    assert not is_logged_in(csrf_browser)


def test_the_same_call_with_the_token_works(csrf_browser, totp_user):
    token = csrf_browser.cookies["csrftoken"].value
    code = pyotp.TOTP(totp_user.totp_secret).now()
    response = json_post(csrf_browser, API + "totp/verify/", {"code": code}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and is_logged_in(csrf_browser)


def test_account_calls_need_the_csrf_token(user, password):
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    client.post("/accounts/login/", {"username": user.username, "password": password, "csrfmiddlewaretoken": token})
    assert is_logged_in(client)
    token = client.cookies["csrftoken"].value  # login() rotated it
    for path in ("devices/pairing/", "backup-codes/", "totp/setup/"):
        forged = json_post(client, API + path)
        assert forged.status_code == 403, (path, forged.content)
    assert json_post(client, API + "devices/pairing/", HTTP_X_CSRFTOKEN=token).status_code == 201


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "https:evil.example"],
)
def test_next_cannot_leave_the_site(client, totp_user, password, next_url):
    password_login(client, totp_user, password, path=f"/accounts/login/?next={next_url}")
    response = json_post(client, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert response.status_code == 200
    redirect = response.json()["redirect_url"]
    assert "evil" not in redirect and not redirect.startswith(("//", "javascript", "https:")), redirect


def test_next_inside_the_site_is_kept(client, totp_user, password):
    password_login(client, totp_user, password, path="/accounts/login/?next=/private/")
    response = json_post(client, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert response.json()["redirect_url"] == "/private/"


def test_user_deactivated_during_the_step_cannot_finish(pending_client, totp_user):
    totp_user.is_active = False
    totp_user.save(update_fields=["is_active"])
    response = json_post(pending_client, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"
    assert not is_logged_in(pending_client)
