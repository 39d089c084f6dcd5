"""Recovery ends what an intruder may hold (contract v1.1): an MFA reset and a password change or
reset end every other session of the user — on the database, cache and signed-cookie session
engines —, void unused pairing tokens and MFA steps in progress, forget remembered browsers and
e-mail the user. The two attacks of issue 12 are here as tests."""
from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from django_pushmfa import services
from django_pushmfa.models import MFACredential, RememberedBrowser, SecurityEvent, UserSession
from django_pushmfa.testing.phone import DjangoClientTransport, PhoneAPIError, PhoneClient, PhoneKey

from .conftest import JSON, post, totp_now

pytestmark = pytest.mark.django_db

ENGINES = [
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.signed_cookies",
]


def logged_in(client: Client) -> bool:
    return client.get("/mfa/api/credentials/", **JSON).status_code == 200


@pytest.fixture(params=ENGINES, ids=["db", "cache", "signed_cookies"])
def engine(request, settings):
    settings.SESSION_ENGINE = request.param
    return request.param


@pytest.fixture
def two_sessions(user, login_with_password, engine):
    """The victim's browser and an intruder's, both fully logged in as ``user`` (no MFA yet)."""
    victim, intruder = Client(), Client()
    for client in (victim, intruder):
        assert login_with_password(client, user).status_code == 302
        assert logged_in(client)
    return victim, intruder


def test_mfa_reset_ends_every_session_of_the_user(user, staff_user, add_totp, two_sessions):
    victim, intruder = two_sessions
    add_totp(user)
    services.reset_mfa(user, actor=staff_user, reason="lost phone")
    assert not logged_in(victim) and not logged_in(intruder)
    assert not UserSession.objects.filter(user=user, ended_at__isnull=True).exists()
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.SESSIONS_ENDED)
    assert event.detail["reason"] == "mfa_reset" and event.detail["sessions"] == 2 and event.actor == staff_user
    # One e-mail for the reset (issue 11's mfa_reset alert), saying the sessions were signed out.
    [email] = mail.outbox
    assert "reset" in email.subject and "2 other sessions were signed out" in email.body


def test_password_change_keeps_the_changing_session_and_ends_the_others(user, password, two_sessions):
    victim, intruder = two_sessions
    new = "a new long passphrase 42"
    response = victim.post(
        "/accounts/password_change/", {"old_password": password, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert logged_in(victim)
    assert not logged_in(intruder)
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGED).count() == 1
    [open_record] = UserSession.objects.filter(user=user, ended_at__isnull=True)
    assert str(open_record.pk) == victim.session["pushmfa_session"]


def test_password_reset_ends_every_session(user, two_sessions):
    victim, intruder = two_sessions
    user.set_password("reset by e-mail link 123")  # what PasswordResetConfirmView's form does
    user.save()
    assert not logged_in(victim) and not logged_in(intruder)


def test_admin_password_change_of_another_user_ends_their_sessions(user, staff_user, add_totp, password):
    victim = Client()
    from django_pushmfa.testing.login import force_mfa_login

    force_mfa_login(victim, user)
    assert logged_in(victim)
    admin = Client()
    force_mfa_login(admin, staff_user)
    response = admin.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "set by the admin 9876", "password2": "set by the admin 9876", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:500]
    assert not logged_in(victim)
    assert logged_in(admin)
    assert SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGED).actor == staff_user


def test_a_pending_login_cannot_complete_after_recovery(user, staff_user, add_totp, login_with_password):
    secret = add_totp(user)
    intruder = Client()
    login_with_password(intruder, user)  # knows the password, waits for a code
    user.set_password("changed after the leak 55")
    user.save()
    response = post(intruder, "/mfa/api/totp/verify/", {"code": totp_now(secret)})
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"
    assert not logged_in(intruder)


def test_pending_push_challenges_expire(user, staff_user, add_phone, login_with_password):
    add_phone(user)
    intruder = Client()
    login_with_password(intruder, user)
    started = post(intruder, "/mfa/api/push/").json()
    services.reset_mfa(user, actor=staff_user, reason="fatigue attack")
    assert intruder.get(started["poll_url"], **JSON).json() in (
        {"status": "expired"},
        {"code": "mfa_not_in_progress", "detail": "No login is in progress in this session."},
    )
    from django_pushmfa.push.store import get_store

    assert get_store().get(started["challenge_id"]).status == "expired"


def test_remembered_browsers_are_forgotten(user, add_totp, login_with_password, settings):
    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    secret = add_totp(user)
    browser = Client()
    login_with_password(browser, user)
    post(browser, "/mfa/api/totp/verify/", {"code": totp_now(secret), "remember_browser": True})
    assert RememberedBrowser.objects.filter(user=user, revoked_at__isnull=True).count() == 1
    user.set_password("another new passphrase 77")
    user.save()
    assert not RememberedBrowser.objects.filter(user=user, revoked_at__isnull=True).exists()


def test_attack_pairing_token_issued_by_a_hijacked_session_dies_with_the_reset(user, staff_user, add_totp):
    """Attack 2 of issue 12: a hijacked session issued a pairing token, staff reset the account, and
    the attacker then redeemed the old token: their phone became the victim's only, primary method."""
    add_totp(user)
    from django_pushmfa.testing.login import force_mfa_login

    intruder = Client()
    force_mfa_login(intruder, user)  # hijacked right after the victim's login: within the window
    token = post(intruder, "/mfa/api/devices/pairing/").json()["pairing_token"]

    admin = Client()
    force_mfa_login(admin, staff_user)
    response = admin.post(f"/admin/pushmfa/mfacredential/reset/{user.pk}/", {"reason": "account takeover"})
    assert response.status_code == 302

    phone = PhoneClient(DjangoClientTransport(Client()), PhoneKey.generate("p256"))
    with pytest.raises(PhoneAPIError) as refused:
        phone.register(token, platform="fcm", push_token="attacker-token", name="attacker")
    assert refused.value.response.json()["code"] == "invalid_pairing_token"
    assert not MFACredential.objects.active().filter(user=user).exists()
    assert not logged_in(intruder)
    assert logged_in(admin)


def test_a_stale_hijacked_session_cannot_issue_a_pairing_token(user, add_totp, stale):
    add_totp(user)
    response = post(stale, "/mfa/api/devices/pairing/")
    assert response.status_code == 403 and response.json()["code"] == "reauthentication_required"


def test_reset_mfa_alert_can_be_turned_off(user, staff_user, settings):
    settings.PUSHMFA_ALERTS = {"mfa_reset": False}
    services.reset_mfa(user, actor=staff_user, reason="test")
    assert not mail.outbox


def test_setting_the_password_of_an_account_that_never_signed_in_alerts_nobody(user_factory):
    fresh_account = user_factory("newcomer")
    fresh_account.set_password("first real password 1")
    fresh_account.save()
    assert not SecurityEvent.objects.filter(user=fresh_account).exists()
    assert not mail.outbox
