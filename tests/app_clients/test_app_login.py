"""App clients log in over the API: password step, every MFA method, the token on host views, logout.

docs/api-contract.md, "App clients". Every request here goes through a client that sends no cookie
and enforces CSRF (see conftest.AppClient).
"""

from __future__ import annotations

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from django_pushmfa.models import SecurityEvent
from tests.fallbacks.authenticator import SoftwareAuthenticator

from .conftest import AppClient

pytestmark = pytest.mark.django_db(transaction=False)

WHOAMI = "/api/token-whoami/"


def test_user_without_mfa_is_authenticated_at_once(app, user, password):
    response = app.login(user.username, password)
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "authenticated", "session_token": body["session_token"]}
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert app.get(WHOAMI).json() == {"username": user.username}


def test_enrolled_user_gets_a_pending_session(app, user, password, add_totp):
    add_totp(user)
    body = app.login(user.username, password).json()
    assert body["status"] == "mfa_required"
    assert [m["method"] for m in body["methods"]] == ["totp"]
    session = SessionStore(body["session_token"])
    assert SESSION_KEY not in session and session["pushmfa_pending"]["user_id"] == str(user.pk)
    # not logged in anywhere yet: the host view and the account endpoints refuse it
    assert app.get(WHOAMI).status_code == 403  # the host's own error shape (DRF's)
    assert app.get("api-credentials").json()["code"] == "mfa_required"
    # the browser endpoints take it, without any CSRF token
    assert app.get("api-methods").json() == {"methods": body["methods"]}


# --- every method completes an app login ---------------------------------------------------------------
def finish_and_check(app, response, user, method):
    pre_login = app.token
    app.completed(response)
    assert app.get(WHOAMI).json() == {"username": user.username}
    assert app.get("api-credentials").status_code == 200
    # the pre-login token died with the login (the session key changed): replaying it fails
    assert app.get(WHOAMI, token=pre_login).status_code == 401
    replay = app.get("api-methods", token=pre_login)
    assert (replay.status_code, replay.json()["code"]) == (401, "not_authenticated")
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.MFA_COMPLETED)
    assert event.detail["method"] == method


def test_push(app, user, password, add_phone):
    phone = add_phone(user)
    assert app.login(user.username, password).json()["status"] == "mfa_required"
    start = app.post("api-push-start")
    assert start.status_code == 201, start.content
    body = start.json()
    assert app.get(body["poll_url"]).json() == {"status": "pending"}
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    finish_and_check(app, app.get(body["poll_url"]), user, "push")
    # the completed session polls on with its new token: consumed, no second login
    assert app.get(body["poll_url"]).json() == {"status": "consumed"}


def test_push_async_poll(app, user, password, add_phone, settings):
    settings.PUSHMFA_ASYNC_POLL = True
    phone = add_phone(user)
    app.login(user.username, password)
    body = app.post("api-push-start").json()
    assert body["poll_url"].endswith("/async/")
    assert app.get(body["poll_url"]).json() == {"status": "pending"}
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    finish_and_check(app, app.get(body["poll_url"]), user, "push")
    unknown = app.get(body["poll_url"], token="x" * 32)
    assert (unknown.status_code, unknown.json()["code"]) == (401, "not_authenticated")
    assert unknown["WWW-Authenticate"] == "X-Session-Token"


def test_totp(app, user, password, add_totp):
    secret = add_totp(user)
    app.login(user.username, password)
    wrong = app.post("api-totp-verify", {"code": "000000"})
    assert wrong.json()["code"] == "invalid_code" and "session_token" not in wrong.json()
    finish_and_check(app, app.post("api-totp-verify", {"code": pyotp.TOTP(secret).now()}), user, "totp")


def test_backup_code(app, user, password, add_totp):
    add_totp(user)
    account = AppClient()
    # Backup codes are made by the logged-in user, over the token too.
    secret_login = account.login(user.username, password)
    assert secret_login.json()["status"] == "mfa_required"
    from django_pushmfa.adapter import get_adapter
    from django_pushmfa.models import TOTPDevice

    secret = get_adapter().decrypt_secret(TOTPDevice.objects.get(credential__user=user).encrypted_secret)
    account.completed(account.post("api-totp-verify", {"code": pyotp.TOTP(secret).now()}))
    codes = account.post("api-backup-codes")
    assert codes.status_code == 201, codes.content
    SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_COMPLETED).delete()
    app.login(user.username, password)
    finish_and_check(app, app.post("api-backup-codes-verify", {"code": codes.json()["codes"][0]}), user, "backup_code")


def test_webauthn(app, user, password):
    authenticator = SoftwareAuthenticator()
    # Register the key as a fully logged-in app client (account endpoints over the token).
    account = AppClient()
    assert account.login(user.username, password).json()["status"] == "authenticated"
    options = account.post("api-webauthn-register-begin", {})
    assert options.status_code == 200, options.content
    created = account.post("api-webauthn-register-complete", {"credential": authenticator.create(options.json())})
    assert created.status_code == 201, created.content

    assert app.login(user.username, password).json()["status"] == "mfa_required"
    begin = app.post("api-webauthn-begin")
    assert begin.status_code == 200, begin.content
    done = app.post("api-webauthn-complete", {"credential": authenticator.get(begin.json())})
    finish_and_check(app, done, user, "webauthn")


# --- logout ---------------------------------------------------------------------------------------------
def test_logout_ends_the_session(app, user, password):
    app.login(user.username, password)
    assert app.get(WHOAMI).status_code == 200
    response = app.post("api-app-logout")
    assert response.status_code == 204 and response.content == b""
    assert app.get(WHOAMI).status_code == 401
    again = app.post("api-app-logout")
    assert (again.status_code, again.json()["code"]) == (401, "not_authenticated")


def test_logout_needs_the_header(user, password):
    response = Client(enforce_csrf_checks=True).post("/mfa/api/app/logout/", HTTP_ACCEPT="application/json")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_logout_of_a_pending_session_ends_its_push(app, user, password, add_phone):
    from django_pushmfa.testing.phone import PhoneAPIError

    phone = add_phone(user)
    app.login(user.username, password)
    body = app.post("api-push-start").json()
    assert app.post("api-app-logout").status_code == 204
    assert phone.challenges() == []
    with pytest.raises(PhoneAPIError) as refused:
        phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    assert refused.value.code == "challenge_resolved"
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PUSH_APPROVED).exists()


# --- tokens that are refused ------------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["", "nope", "a" * 32, "a" * 500, "ä" * 32, "../" * 11])
def test_unknown_tokens_are_refused_everywhere(app, user, password, token):
    for path in ("api-methods", "api-credentials"):
        response = app.get(path, token=token)
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated"), path
        assert response["WWW-Authenticate"] == "X-Session-Token"
    assert app.get(WHOAMI, token=token).status_code == 401
    assert app.post("api-push-start", token=token).status_code == 401


def test_browser_session_key_is_not_an_app_token(user, password):
    """A cookie session (a browser's) cannot be driven through the header, where CSRF is not checked."""
    browser = Client()
    browser.post("/accounts/login/", {"username": user.username, "password": password})
    key = browser.cookies["sessionid"].value
    assert browser.get(WHOAMI).status_code == 200  # cookie path: fine
    assert AppClient(key).get(WHOAMI).status_code == 401
    response = AppClient(key).get("api-credentials")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_deactivated_user_token_stops_working(app, user, password):
    app.login(user.username, password)
    user.is_active = False
    user.save()
    assert app.get(WHOAMI).status_code == 401


def test_password_change_ends_app_sessions(app, user, password):
    app.login(user.username, password)
    user.set_password("another long password")
    user.save()
    assert app.get(WHOAMI).status_code == 401
