"""The MFA step page and the account page, driven like a browser without JavaScript."""
from __future__ import annotations

import re

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from django_pushmfa.internal import pending
from django_pushmfa.models import MFACredential, SecurityEvent
from django_pushmfa.testing.login import force_mfa_login

from .conftest import HTML

pytestmark = pytest.mark.django_db

PAGE = "/mfa/authenticate/"


@pytest.fixture
def totp_user(user, add_totp, add_phone):
    add_phone(user, name="Alice's Pixel 8")
    user.totp_secret = add_totp(user)
    return user


def test_page_lists_methods_push_first(client, totp_user, login_with_password):
    login_with_password(client, totp_user)
    response = client.get(PAGE, **HTML)
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-pushmfa-push" in html and 'data-autostart="true"' in html
    assert 'href="/mfa/authenticate/?method=totp"' in html
    assert "pushmfa/pushmfa.js" in html and "pushmfa/base.html" not in html
    assert "Pixel" not in html  # never a device's name before the MFA step
    assert response["Cache-Control"].startswith("max-age=0")


def test_totp_without_javascript(client, totp_user, login_with_password):
    login_with_password(client, totp_user, next="/private/")
    response = client.get(PAGE + "?method=totp", **HTML)
    assert 'name="action" value="totp"' in response.content.decode()
    response = client.post(PAGE, {"action": "totp", "code": "000000"})
    assert response.status_code == 400
    assert "That code is not valid" in response.content.decode()
    assert SESSION_KEY not in client.session
    response = client.post(PAGE, {"action": "totp", "code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert response.status_code == 302 and response["Location"] == "/private/"
    assert client.session[SESSION_KEY] == str(totp_user.pk)


def test_totp_replay_refused(client, totp_user, login_with_password):
    code = pyotp.TOTP(totp_user.totp_secret).now()
    login_with_password(client, totp_user)
    assert client.post(PAGE, {"action": "totp", "code": code}).status_code == 302
    other = Client()
    login_with_password(other, totp_user)
    assert other.post(PAGE, {"action": "totp", "code": code}).status_code == 400
    assert SESSION_KEY not in other.session


def test_totp_rate_limited(client, totp_user, login_with_password):
    login_with_password(client, totp_user)
    statuses = [client.post(PAGE, {"action": "totp", "code": "000000"}).status_code for _ in range(8)]
    assert 429 in statuses
    limited = client.post(PAGE, {"action": "totp", "code": "000000"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert "Too many attempts" in limited.content.decode()


def test_backup_code_without_javascript(client, totp_user, login_with_password):
    from django_pushmfa.backup_codes.internal.flows import generate_set

    _credential, codes = generate_set(None, totp_user)
    login_with_password(client, totp_user)
    response = client.get(PAGE + "?method=backup_code", **HTML)
    assert 'value="backup_code"' in response.content.decode()
    response = client.post(PAGE, {"action": "backup_code", "code": "  " + codes[0].upper() + " "})
    assert response.status_code == 302
    assert client.session[pending.METHOD_KEY] == "backup_code"
    event = SecurityEvent.objects.get(user=totp_user, kind=SecurityEvent.Kind.MFA_COMPLETED)
    assert event.detail == {"method": "backup_code"}


def test_method_not_offered_is_refused(client, user, add_phone, login_with_password):
    add_phone(user)
    login_with_password(client, user)
    response = client.post(PAGE, {"action": "totp", "code": "123456"})
    assert response.status_code == 400
    assert SESSION_KEY not in client.session


def test_cancel_signs_out(client, totp_user, login_with_password):
    login_with_password(client, totp_user)
    response = client.post(PAGE, {"action": "cancel"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert pending.PENDING_KEY not in client.session


def test_push_without_javascript(client, totp_user, login_with_password):
    from django_pushmfa.models import PushDevice
    from django_pushmfa.push.internal import challenges

    login_with_password(client, totp_user, next="/private/")
    response = client.post(PAGE, {"action": "push"})
    assert response.status_code == 302
    challenge_id = re.search(r"challenge=([0-9a-f-]{36})", response["Location"]).group(1)
    page = client.get(response["Location"], **HTML)
    html = page.content.decode()
    assert 'http-equiv="refresh"' in html
    number = re.search(r'data-pushmfa-number[^>]*>(\d+)<', html).group(1)
    device = PushDevice.objects.get(credential__user=totp_user)
    challenges.respond(device, challenge_id, "approve", number)
    done = client.get(response["Location"], **HTML)
    assert done.status_code == 302 and done["Location"] == "/private/"
    assert client.session[SESSION_KEY] == str(totp_user.pk)


def test_webauthn_section(client, user, login_with_password):
    from django.db import transaction

    from django_pushmfa import services
    from django_pushmfa.models import WebAuthnKey

    with transaction.atomic():
        credential = services.add_credential(user, MFACredential.Method.WEBAUTHN, label="YubiKey")
        WebAuthnKey.objects.create(credential=credential, key_id=b"k", key_id_b64="aw", public_key=b"p")
    login_with_password(client, user)
    html = client.get(PAGE, **HTML).content.decode()
    assert 'data-pushmfa-webauthn="authenticate"' in html
    assert 'data-begin-url="/mfa/api/webauthn/begin/"' in html
    assert "pushmfa/webauthn.js" in html


# --- account page -------------------------------------------------------------------------------
@pytest.fixture
def account_client(totp_user):
    client = Client()
    force_mfa_login(client, totp_user)
    return client


def test_account_page_lists_and_revokes(account_client, totp_user):
    response = account_client.get("/mfa/account/", **HTML)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alice&#x27;s Pixel 8" in html and "Phone app" in html
    totp = MFACredential.objects.get(user=totp_user, method="totp")
    response = account_client.post("/mfa/account/", {"action": "revoke", "credential": str(totp.pk)})
    assert response.status_code == 302
    totp.refresh_from_db()
    assert totp.revoked_at is not None
    assert SecurityEvent.objects.filter(kind="credential_revoked", credential=totp).exists()
    # Unknown / foreign ids change nothing.
    response = account_client.post("/mfa/account/", {"action": "revoke", "credential": "nope"})
    assert response.status_code == 302


def test_account_page_primary(account_client, totp_user):
    totp = MFACredential.objects.get(user=totp_user, method="totp")
    account_client.post("/mfa/account/", {"action": "primary", "credential": str(totp.pk)})
    assert MFACredential.objects.get(user=totp_user, is_primary=True) == totp


def test_account_page_pairs_a_phone(account_client, totp_user):
    before = SecurityEvent.objects.filter(user=totp_user, kind="pairing_token_created").count()
    response = account_client.post("/mfa/account/", {"action": "pair"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "pushmfa://pair?" in html
    assert "<script src=\"http" not in html and "<img" not in html  # no external resources
    assert SecurityEvent.objects.filter(user=totp_user, kind="pairing_token_created").count() == before + 1


def test_account_page_csrf(totp_user):
    client = Client(enforce_csrf_checks=True)
    force_mfa_login(client, totp_user)
    totp = MFACredential.objects.get(user=totp_user, method="totp")
    response = client.post("/mfa/account/", {"action": "revoke", "credential": str(totp.pk)})
    assert response.status_code == 403
    totp.refresh_from_db()
    assert totp.revoked_at is None


def test_account_page_needs_full_login(client, totp_user, login_with_password):
    response = client.get("/mfa/account/", **HTML)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    login_with_password(client, totp_user)
    response = client.get("/mfa/account/", **HTML)
    assert response.status_code == 302 and response["Location"] == PAGE


def test_required_mfa_sends_unenrolled_users_to_enrollment(client, user, login_with_password, settings):
    settings.PUSHMFA_REQUIRE_MFA = True
    login_with_password(client, user)
    response = client.get("/private/", **HTML)
    assert response.status_code == 302 and response["Location"].startswith("/mfa/account/")
    page = client.get("/mfa/account/", **HTML)
    assert "requires two-step verification" in page.content.decode()


def test_trust_this_browser(client, totp_user, login_with_password, settings):
    settings.PUSHMFA_TRUST_BROWSER_DAYS = 7
    login_with_password(client, totp_user)
    html = client.get(PAGE + "?method=totp", **HTML).content.decode()
    assert 'name="remember"' in html and "Trust this browser for 7 days" in html
    code = pyotp.TOTP(totp_user.totp_secret).now()
    response = client.post(PAGE, {"action": "totp", "code": code, "remember": "on"})
    assert response.status_code == 302
    assert response.cookies["pushmfa_trust"]["max-age"] == 7 * 86400
    assert response.cookies["pushmfa_trust"]["httponly"]
    assert SecurityEvent.objects.filter(user=totp_user, kind="browser_trusted").count() == 1
    client.post("/accounts/logout/")
    login_with_password(client, totp_user)
    assert client.session[SESSION_KEY] == str(totp_user.pk)  # the MFA step was skipped
    # Revoking a credential changes the security fingerprint: the trust ends.
    client.post("/accounts/logout/")
    MFACredential.objects.filter(user=totp_user, method="push").update(revoked_at="2026-01-01T00:00:00Z")
    login_with_password(client, totp_user)
    assert SESSION_KEY not in client.session


def test_no_trust_checkbox_when_off(client, totp_user, login_with_password):
    login_with_password(client, totp_user)
    assert 'name="remember"' not in client.get(PAGE + "?method=totp", **HTML).content.decode()
    code = pyotp.TOTP(totp_user.totp_secret).now()
    response = client.post(PAGE, {"action": "totp", "code": code, "remember": "on"})
    assert "pushmfa_trust" not in response.cookies


def test_finish_step_refuses_another_user(rf, user_factory, add_totp):
    from django.contrib.sessions.backends.db import SessionStore

    from django_pushmfa.internal.login import finish_step

    alice, mallory = user_factory(), user_factory()
    request = rf.post("/")
    request.session = SessionStore()
    pending.begin(request, alice, "django_pushmfa.auth_backends.MFAModelBackend")
    with pytest.raises(PermissionError):
        finish_step(request, mallory, "totp")
    assert SESSION_KEY not in request.session


# --- issue 19: a reload or a second tab shows the push already sent --------------------------------
def _page_challenge(html: str) -> tuple[str, str]:
    challenge_id = re.search(r'data-challenge-id="([0-9a-f-]{36})"', html).group(1)
    number = re.search(r'data-pushmfa-number[^>]*>(\d+)<', html).group(1)
    return challenge_id, number


def test_reload_and_second_tab_show_the_same_push(client, totp_user, login_with_password):
    from django_pushmfa.models import PushDevice
    from django_pushmfa.push.internal import challenges

    login_with_password(client, totp_user, next="/private/")
    first = client.post(PAGE, {"action": "push"})
    first_id = re.search(r"challenge=([0-9a-f-]{36})", first["Location"]).group(1)
    device = PushDevice.objects.get(credential__user=totp_user)
    # The page loaded again without ?challenge= (a reload of the plain URL, a second tab): the same
    # live push, nothing new on the phone.
    for _ in range(6):
        challenge_id, number = _page_challenge(client.get(PAGE, **HTML).content.decode())
        assert challenge_id == first_id
    assert [c.id for c in challenges.pending_for_device(device)] == [first_id]
    assert 'data-autostart' not in client.get(PAGE, **HTML).content.decode()
    # Approved on the phone: the plain page (a no-JavaScript refresh) completes the login.
    challenges.respond(device, first_id, "approve", number)
    done = client.get(PAGE, **HTML)
    assert done.status_code == 302 and done["Location"] == "/private/"
    assert client.session[SESSION_KEY] == str(totp_user.pk)


def test_page_starts_a_push_only_without_a_live_one(client, totp_user, login_with_password):
    from django_pushmfa.models import PushDevice
    from django_pushmfa.push.internal import challenges

    login_with_password(client, totp_user)
    assert 'data-autostart="true"' in client.get(PAGE, **HTML).content.decode()
    first = client.post(PAGE, {"action": "push"})
    first_id = re.search(r"challenge=([0-9a-f-]{36})", first["Location"]).group(1)
    device = PushDevice.objects.get(credential__user=totp_user)
    challenges.respond(device, first_id, "deny", None)
    # Denied: the page offers "Send again" (it sends nothing by itself), and TOTP pages never follow a push.
    html = client.get(PAGE, **HTML).content.decode()
    assert 'data-autostart="true"' in html and first_id not in html
    assert first_id not in client.get(PAGE + "?method=totp", **HTML).content.decode()


def test_rate_limited_push_without_javascript_says_when(client, totp_user, login_with_password, settings):
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (2, 60)
    login_with_password(client, totp_user)
    for _ in range(30):
        response = client.post(PAGE, {"action": "push"})
        if response.status_code != 302:
            break
    assert response.status_code == 200, "the rate limit never answered"
    html = response.content.decode()
    retry_after = int(response["Retry-After"])
    assert retry_after > 0
    assert f'data-retry-after="{retry_after}"' in html
    assert re.search(r"<button[^>]*data-pushmfa-send[^>]*disabled", html)
    assert f'content="{retry_after}"' in html  # the no-JavaScript page comes back when it may send again
