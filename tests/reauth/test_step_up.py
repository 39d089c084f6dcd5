"""Recent authentication before credential changes (contract v1.1, step-up): every listed endpoint
and page refuses a session whose last authentication is older than PUSHMFA_REAUTH_WINDOW, and
changes nothing; the login's own step, or a re-authentication, lets it through."""
from __future__ import annotations

import pytest
from django.test import Client

from django_pushmfa import services
from django_pushmfa.models import BackupCode, MFACredential, PairingToken, RememberedBrowser, UserSession

from .conftest import JSON, age_session, post, totp_now

pytestmark = pytest.mark.django_db

REAUTH_URL = "/mfa/reauthenticate/"


def state(user):
    """Everything a credential change could touch."""
    return (
        sorted(MFACredential.objects.filter(user=user).values_list("pk", "revoked_at", "is_primary")),
        PairingToken.objects.filter(user=user).count(),
        BackupCode.objects.filter(user=user, used_at__isnull=True).count(),
        UserSession.objects.filter(user=user, ended_at__isnull=True).count(),
    )


def endpoints(credential_id):
    return [
        ("post", "/mfa/api/devices/pairing/", 201),
        ("post", "/mfa/api/totp/setup/", 201),
        ("post", "/mfa/api/backup-codes/", 201),
        ("post", "/mfa/api/webauthn/register/begin/", 200),
        ("post", f"/mfa/api/credentials/{credential_id}/primary/", 200),
        ("delete", f"/mfa/api/credentials/{credential_id}/", 204),
    ]


@pytest.fixture
def second(user, add_totp):
    """A second credential of ``user`` (to make primary / revoke)."""
    add_totp(user)
    return MFACredential.objects.active().filter(user=user, is_primary=False).first()


def call(client, method, path):
    return getattr(client, method)(path, "{}" if method == "post" else None, **JSON)


@pytest.mark.parametrize("index", range(6))
def test_outside_the_window_every_change_is_refused_and_nothing_changes(user, totp_secret, second, stale, index):
    method, path, _ok = endpoints(second.pk)[index]
    call(stale, "get", "/mfa/api/credentials/")  # the session's record exists before the snapshot
    before = state(user)
    response = call(stale, method, path)
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "reauthentication_required" and body["reauthenticate_url"] == REAUTH_URL
    assert body["detail"]
    assert state(user) == before


@pytest.mark.parametrize("index", range(6))
def test_within_the_window_the_change_goes_through(user, totp_secret, second, fresh, index):
    method, path, ok = endpoints(second.pk)[index]
    assert call(fresh, method, path).status_code == ok


def test_totp_confirm_needs_it_too(user, fresh):
    import pyotp

    setup = post(fresh, "/mfa/api/totp/setup/").json()
    age_session(fresh, 301)
    refused = post(fresh, "/mfa/api/totp/confirm/", {"code": pyotp.TOTP(setup["secret"]).now()})
    assert refused.status_code == 403 and refused.json()["code"] == "reauthentication_required"
    assert not MFACredential.objects.filter(user=user).exists()


def test_webauthn_register_complete_needs_it_too(user, stale):
    response = post(stale, "/mfa/api/webauthn/register/complete/", {"credential": {"id": "x"}})
    assert response.status_code == 403 and response.json()["code"] == "reauthentication_required"


def test_the_window_is_the_setting(user, totp_secret, fresh, settings):
    age_session(fresh, 100)
    assert post(fresh, "/mfa/api/devices/pairing/").status_code == 201
    settings.PUSHMFA_REAUTH_WINDOW = 60
    assert post(fresh, "/mfa/api/devices/pairing/").status_code == 403


def test_listing_credentials_needs_no_step_up(user, totp_secret, stale):
    assert stale.get("/mfa/api/credentials/", **JSON).status_code == 200


def test_the_logins_own_mfa_step_counts(user, totp_secret, login_with_password):
    client = Client()
    login_with_password(client, user)
    assert post(client, "/mfa/api/devices/pairing/").json()["code"] == "mfa_required"  # pending: refused
    assert post(client, "/mfa/api/totp/verify/", {"code": totp_now(totp_secret)}).status_code == 200
    assert post(client, "/mfa/api/devices/pairing/").status_code == 201


def test_the_password_step_counts_for_a_user_without_mfa(user, login_with_password):
    client = Client()
    login_with_password(client, user)
    assert post(client, "/mfa/api/totp/setup/").status_code == 201  # enrolls right after logging in


def test_a_remembered_browser_login_is_not_a_recent_authentication(user, totp_secret, login_with_password, settings):
    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    first = Client()
    login_with_password(first, user)
    approved = post(first, "/mfa/api/totp/verify/", {"code": totp_now(totp_secret), "remember_browser": True})
    assert approved.status_code == 200
    cookie = first.cookies["pushmfa_trust"].value
    assert RememberedBrowser.objects.filter(user=user, revoked_at__isnull=True).count() == 1

    later = Client()
    later.cookies["pushmfa_trust"] = cookie
    login_with_password(later, user)
    assert later.get("/mfa/api/credentials/", **JSON).status_code == 200  # logged in: MFA skipped
    refused = post(later, "/mfa/api/devices/pairing/")
    assert refused.status_code == 403 and refused.json()["code"] == "reauthentication_required"


def test_pending_and_anonymous_sessions_are_refused_before_step_up(user, totp_secret, login_with_password):
    anonymous = Client()
    assert post(anonymous, "/mfa/api/devices/pairing/").json()["code"] == "not_authenticated"
    pending = Client()
    login_with_password(pending, user)
    assert post(pending, "/mfa/api/devices/pairing/").json()["code"] == "mfa_required"


# --- the HTML pages -------------------------------------------------------------------------------
def test_account_page_changes_send_the_user_to_reauthenticate_and_back(user, totp_secret, second, stale):
    stale.get("/mfa/account/")
    before = state(user)
    for action in ("pair", "revoke", "primary", "sign_out_others"):
        response = stale.post("/mfa/account/", {"action": action, "credential": str(second.pk)})
        assert response.status_code == 302
        assert response["Location"] == f"{REAUTH_URL}?next=%2Fmfa%2Faccount%2F"
    assert state(user) == before
    assert stale.get("/mfa/account/").status_code == 200  # looking needs no step-up


def test_enrollment_pages_need_it(user, stale):
    for path in ("/mfa/totp/setup/", "/mfa/webauthn/register/"):
        response = stale.get(path)
        assert response.status_code == 302 and response["Location"].startswith(f"{REAUTH_URL}?next=")
    assert stale.get("/mfa/backup-codes/").status_code == 200
    response = stale.post("/mfa/backup-codes/")
    assert response.status_code == 302 and response["Location"] == f"{REAUTH_URL}?next=%2Fmfa%2Fbackup-codes%2F"
    assert not BackupCode.objects.filter(user=user).exists()


def test_account_page_change_goes_through_when_recent(user, totp_secret, second, fresh):
    fresh.post("/mfa/account/", {"action": "revoke", "credential": str(second.pk)})
    second.refresh_from_db()
    assert second.revoked_at is not None


# --- the host site's own views: decorator, mixin, DRF permission ------------------------------------
def test_decorator_mixin_and_permission_on_host_views(user, totp_secret, stale, fresh):
    response = stale.get("/sensitive/")
    assert response.status_code == 302 and response["Location"] == f"{REAUTH_URL}?next=%2Fsensitive%2F"
    assert fresh.get("/sensitive/").content == b"sensitive page for alice"

    assert stale.get("/sensitive-cbv/").content == b"delete account?"  # only POST is checked
    response = stale.post("/sensitive-cbv/")
    assert response.status_code == 302 and response["Location"].startswith(REAUTH_URL)
    assert fresh.post("/sensitive-cbv/").content == b"account deleted"

    refused = post(stale, "/api/sensitive/")
    assert refused.status_code == 403 and refused.json()["reauthenticate_url"] == REAUTH_URL
    assert post(fresh, "/api/sensitive/").json() == {"done": True}


def test_host_views_send_anonymous_users_to_login_and_pending_ones_to_the_mfa_step(
    user, totp_secret, login_with_password
):
    assert Client().get("/sensitive/")["Location"].startswith("/accounts/login/")
    pending = Client()
    login_with_password(pending, user)
    assert pending.get("/sensitive/")["Location"].startswith("/mfa/authenticate/")


# --- the admin on one's own credentials ------------------------------------------------------------
def test_admin_revoke_action_refuses_ones_own_credentials(staff_user, add_totp, user, password):
    """Attack 1 of issue 12: a stolen superuser session revoked its own credentials through the
    admin action, then a password-only admin login went straight in."""
    add_totp(staff_user)
    add_totp(user)
    client = Client()
    from django_pushmfa.testing.login import force_mfa_login

    force_mfa_login(client, staff_user, recently=False)
    own = MFACredential.objects.get(user=staff_user)
    other = MFACredential.objects.get(user=user)
    response = client.post(
        "/admin/pushmfa/mfacredential/",
        {"action": "revoke_credentials", "_selected_action": [str(own.pk), str(other.pk)], "post": "yes",
         "reason": "stolen session"},
    )
    assert response.status_code == 302
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.revoked_at is None and other.revoked_at is not None
    response = client.post(f"/admin/pushmfa/mfacredential/{own.pk}/revoke/", {"reason": "stolen session"})
    own.refresh_from_db()
    assert own.revoked_at is None
    assert services.has_active_mfa(staff_user)
    # and the account API wants a re-authentication from this old session
    assert client.delete(f"/mfa/api/credentials/{own.pk}/", **JSON).json()["code"] == "reauthentication_required"
