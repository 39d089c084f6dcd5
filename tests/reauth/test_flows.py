"""Re-authentication flows (contract v1.1): ``api/reauth/…`` reuse the login's methods; each makes
the session recently authenticated, the user staying logged in as themself."""
from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from django_pushmfa.models import BackupCode, SecurityEvent
from django_pushmfa.push.backends import locmem
from django_pushmfa.push.store import get_store
from django_pushmfa.testing.login import force_mfa_login
from tests.fallbacks.authenticator import SoftwareAuthenticator

from .conftest import JSON, post, totp_now

pytestmark = pytest.mark.django_db

PAIRING = "/mfa/api/devices/pairing/"


def refused(client):
    response = post(client, PAIRING)
    return response.status_code == 403 and response.json()["code"] == "reauthentication_required"


def reauthenticated(user, method):
    return SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.REAUTHENTICATED, detail__method=method)


def test_methods_list_the_users_mfa_methods_and_no_password(user, totp_secret, stale):
    methods = stale.get("/mfa/api/reauth/methods/", **JSON).json()["methods"]
    assert [m["method"] for m in methods] == ["totp"]


def test_methods_offer_the_password_only_without_mfa(user):
    client = Client()
    force_mfa_login(client, user, recently=False)
    assert client.get("/mfa/api/reauth/methods/", **JSON).json() == {
        "methods": [{"method": "password", "label": "Password", "is_primary": True}]
    }


def test_pending_and_anonymous_sessions_cannot_reauthenticate(user, totp_secret, login_with_password):
    anonymous = Client().get("/mfa/api/reauth/methods/", **JSON)
    assert anonymous.status_code == 403 and anonymous.json()["code"] == "not_authenticated"
    pending = Client()
    login_with_password(pending, user)
    for path in ("/mfa/api/reauth/totp/", "/mfa/api/reauth/push/", "/mfa/api/reauth/password/"):
        response = post(pending, path, {"code": totp_now(totp_secret), "password": "x"})
        assert response.status_code == 403 and response.json()["code"] == "mfa_required", path
    assert pending.session.get(SESSION_KEY) is None


def test_totp(user, totp_secret, stale):
    assert refused(stale)
    wrong = post(stale, "/mfa/api/reauth/totp/", {"code": "000000"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_code"
    assert refused(stale)
    ok = post(stale, "/mfa/api/reauth/totp/", {"code": totp_now(totp_secret)})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert stale.session[SESSION_KEY] == str(user.pk)
    assert post(stale, PAIRING).status_code == 201
    assert reauthenticated(user, "totp").count() == 1


def test_backup_code(user, totp_secret, fresh):
    codes = post(fresh, "/mfa/api/backup-codes/").json()["codes"]
    client = Client()
    force_mfa_login(client, user, recently=False)
    assert refused(client)
    assert post(client, "/mfa/api/reauth/backup-codes/", {"code": codes[0]}).json()["status"] == "approved"
    assert post(client, PAIRING).status_code == 201
    assert BackupCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    # a used code does not work twice
    client2 = Client()
    force_mfa_login(client2, user, recently=False)
    assert post(client2, "/mfa/api/reauth/backup-codes/", {"code": codes[0]}).json()["code"] == "invalid_code"


def test_code_rate_limit_holds(user, totp_secret, stale, settings):
    settings.PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS = 2
    settings.PUSHMFA_TOTP_FAILURE_BACKOFF_BASE = 60
    for _ in range(3):
        post(stale, "/mfa/api/reauth/totp/", {"code": "000000"})
    limited = post(stale, "/mfa/api/reauth/totp/", {"code": totp_now(totp_secret)})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited" and limited["Retry-After"]
    assert refused(stale)


def test_password_only_without_mfa(user, password, totp_secret, stale):
    response = post(stale, "/mfa/api/reauth/password/", {"password": password})
    assert response.status_code == 403 and response.json()["code"] == "method_not_available"
    assert refused(stale)


def test_password(user, password, settings):
    client = Client()
    force_mfa_login(client, user, recently=False)
    assert post(client, "/mfa/api/totp/setup/").status_code == 403
    wrong = post(client, "/mfa/api/reauth/password/", {"password": "nope"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_credentials"
    assert post(client, "/mfa/api/reauth/password/", {}).json()["code"] == "invalid"
    assert post(client, "/mfa/api/reauth/password/", {"password": password}).json()["status"] == "approved"
    assert post(client, "/mfa/api/totp/setup/").status_code == 201
    assert reauthenticated(user, "password").count() == 1


def test_password_guessing_backs_off(user, password, settings):
    settings.PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS = 2
    settings.PUSHMFA_TOTP_FAILURE_BACKOFF_BASE = 60
    client = Client()
    force_mfa_login(client, user, recently=False)
    for _ in range(3):
        post(client, "/mfa/api/reauth/password/", {"password": "nope"})
    limited = post(client, "/mfa/api/reauth/password/", {"password": password})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    # the third guess came during the back-off: refused before the password was even checked
    assert SecurityEvent.objects.filter(user=user, kind="mfa_failed", detail__method="password").count() == 2


# --- push ------------------------------------------------------------------------------------------
@pytest.fixture
def phone(user, add_phone):
    return add_phone(user)


def test_push_confirm_its_you(user, phone, stale):
    started = post(stale, "/mfa/api/reauth/push/")
    assert started.status_code == 201, started.content
    body = started.json()
    assert body["poll_url"] == f"/mfa/api/reauth/push/{body['challenge_id']}/"
    [message] = locmem.outbox
    assert message.data["purpose"] == "reauthentication" and message.title == "Confirm it's you"
    challenge = phone.challenge(body["challenge_id"])
    assert challenge["context"]["purpose"] == "reauthentication"
    assert get_store().get(body["challenge_id"]).context["purpose"] == "reauthentication"

    assert stale.get(body["poll_url"], **JSON).json() == {"status": "pending"}
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    # another session of the same user cannot use this session's approval
    other = Client()
    force_mfa_login(other, user, recently=False)
    assert other.get(body["poll_url"], **JSON).status_code == 404
    assert refused(other)

    approved = stale.get(body["poll_url"] + "?wait=2", **JSON).json()
    assert approved["status"] == "approved"
    assert stale.session[SESSION_KEY] == str(user.pk)
    assert post(stale, PAIRING).status_code == 201
    # consumed once
    assert stale.get(body["poll_url"], **JSON).json() == {"status": "consumed"}
    assert reauthenticated(user, "push").count() == 1


def test_a_reauthentication_approval_never_logs_a_login_in(user, phone, stale):
    """The login's poll endpoint consumes a re-authentication's approval without effect."""
    body = post(stale, "/mfa/api/reauth/push/").json()
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    assert stale.get(f"/mfa/api/push/{body['challenge_id']}/", **JSON).json() == {"status": "consumed"}
    assert stale.get(body["poll_url"], **JSON).json() == {"status": "consumed"}
    assert refused(stale)
    assert not reauthenticated(user, "push").exists()


def test_push_rate_limit_and_denials_as_at_login(user, phone, stale, settings):
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (2, 900)
    assert post(stale, "/mfa/api/reauth/push/").status_code == 201
    assert post(stale, "/mfa/api/reauth/push/").status_code == 201
    limited = post(stale, "/mfa/api/reauth/push/")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"


def test_denied_push_does_not_reauthenticate(user, phone, stale):
    body = post(stale, "/mfa/api/reauth/push/").json()
    phone.respond(body["challenge_id"], "deny")
    # v1.1: the poll says why (issue 19)
    assert stale.get(body["poll_url"], **JSON).json() == {"status": "denied", "reason": "denied"}
    assert refused(stale)


# --- WebAuthn ---------------------------------------------------------------------------------------
def test_webauthn_passkey(user, fresh):
    passkey = SoftwareAuthenticator(user_verification=True)
    options = post(fresh, "/mfa/api/webauthn/register/begin/", {"passkey": True}).json()
    created = post(fresh, "/mfa/api/webauthn/register/complete/", {"credential": passkey.create(options)})
    assert created.status_code == 201
    client = Client()
    force_mfa_login(client, user, recently=False)
    assert refused(client)
    options = post(client, "/mfa/api/reauth/webauthn/begin/").json()
    assert options["userVerification"] == "required"
    no_uv = post(client, "/mfa/api/reauth/webauthn/complete/", {"credential": passkey.get(options, uv=False)})
    assert no_uv.status_code == 400 and no_uv.json()["code"] == "webauthn_failed"
    options = post(client, "/mfa/api/reauth/webauthn/begin/").json()
    done = post(client, "/mfa/api/reauth/webauthn/complete/", {"credential": passkey.get(options)})
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert post(client, PAIRING).status_code == 201


# --- the HTML page --------------------------------------------------------------------------------
def test_page_returns_to_next(user, totp_secret, stale):
    page = stale.get("/mfa/reauthenticate/?next=/mfa/totp/setup/")
    assert page.status_code == 200 and b"Confirm it" in page.content
    response = stale.post("/mfa/reauthenticate/", {"action": "totp", "code": totp_now(totp_secret)})
    assert response.status_code == 302 and response["Location"] == "/mfa/totp/setup/"
    assert stale.get("/mfa/totp/setup/").status_code == 200


def test_page_refuses_an_unsafe_next(user, totp_secret, stale, settings):
    stale.get("/mfa/reauthenticate/?next=https://evil.example/")
    response = stale.post("/mfa/reauthenticate/", {"action": "totp", "code": totp_now(totp_secret)})
    assert response["Location"] == settings.LOGIN_REDIRECT_URL


def test_page_password_for_users_without_mfa(user, password):
    client = Client()
    force_mfa_login(client, user, recently=False)
    page = client.get("/mfa/reauthenticate/?next=/sensitive/")
    assert b'name="password"' in page.content
    assert client.post("/mfa/reauthenticate/", {"action": "password", "password": "nope"}).status_code == 400
    response = client.post("/mfa/reauthenticate/", {"action": "password", "password": password})
    assert response["Location"] == "/sensitive/"
    assert client.get("/sensitive/").status_code == 200


def test_page_password_refused_for_users_with_mfa(user, password, totp_secret, stale):
    page = stale.get("/mfa/reauthenticate/")
    assert b'name="password"' not in page.content
    assert stale.post("/mfa/reauthenticate/", {"action": "password", "password": password}).status_code == 400
    assert refused(stale)


def test_page_push_without_javascript(user, phone, stale):
    stale.get("/mfa/reauthenticate/?next=/sensitive/")
    started = stale.post("/mfa/reauthenticate/", {"action": "push"})
    assert started.status_code == 302 and started["Location"].startswith("/mfa/reauthenticate/?challenge=")
    challenge_id = started["Location"].split("=", 1)[1]
    waiting = stale.get(started["Location"])
    assert waiting.status_code == 200
    number = get_store().get(challenge_id).display_number
    phone.respond(challenge_id, "approve", selected_number=number)
    done = stale.get(started["Location"])
    assert done.status_code == 302 and done["Location"] == "/sensitive/"


def test_page_for_pending_and_anonymous(user, totp_secret, login_with_password):
    assert Client().get("/mfa/reauthenticate/")["Location"].startswith("/accounts/login/")
    pending = Client()
    login_with_password(pending, user)
    assert pending.get("/mfa/reauthenticate/")["Location"] == "/mfa/authenticate/"
