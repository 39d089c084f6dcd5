"""Step-up and re-authentication holes found by the v1.1 security review (each test failed before its fix)."""
from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

from django_pushmfa.internal import throttle
from django_pushmfa.models import SecurityEvent
from django_pushmfa.testing.login import force_mfa_login
from tests.app_clients.conftest import AppClient

from .conftest import JSON, age_session

pytestmark = pytest.mark.django_db


def test_a_token_user_never_borrows_another_sessions_step_up(user, password, user_factory, add_totp):
    """A stale app token of the victim, sent with the attacker's own freshly logged-in cookie session:
    the stamp belongs to the cookie's user, so the victim's step-up is refused."""
    import pyotp

    secret = add_totp(user)
    victim = AppClient()
    victim.login(user.username, password)
    victim.completed(victim.post("api-totp-verify", {"code": pyotp.TOTP(secret).now()}))
    from django_pushmfa.internal.app_sessions import load
    from django_pushmfa.internal.reauth import AUTHENTICATED_AT_KEY

    session = load(victim.token)
    session[AUTHENTICATED_AT_KEY] = 0  # the victim's token is stale
    session.save()
    attacker = Client()
    force_mfa_login(attacker, user_factory(username="mallory"))  # fresh, as someone else
    both = attacker.post("/api/sensitive-token/", {}, HTTP_X_SESSION_TOKEN=victim.token, **JSON)
    assert both.status_code == 403 and both.json()["code"] == "reauthentication_required", both.content
    assert attacker.post("/api/sensitive-token/", {}, **JSON).json() == {"done_for": "mallory"}


def test_a_jwt_user_never_borrows_another_sessions_step_up(user, password, user_factory, add_totp, settings):
    """The same with a JWT (not a session at all): only a session logged in as the token's user counts."""
    import pyotp

    settings.PUSHMFA_ADAPTER = "django_pushmfa.contrib.simplejwt.SimpleJWTAdapter"
    secret = add_totp(user)
    victim = AppClient()
    victim.login(user.username, password)
    access = victim.post("api-totp-verify", {"code": pyotp.TOTP(secret).now()}).json()["tokens"]["access"]
    attacker = Client()
    force_mfa_login(attacker, user_factory(username="mallory"))
    both = attacker.post("/api/sensitive-token/", {}, HTTP_AUTHORIZATION=f"Bearer {access}", **JSON)
    assert both.status_code == 403 and both.json()["code"] == "reauthentication_required", both.content


def test_a_fresh_app_token_passes_step_up_on_host_views(user, password, add_totp):
    import pyotp

    secret = add_totp(user)
    app = AppClient()
    app.login(user.username, password)
    app.completed(app.post("api-totp-verify", {"code": pyotp.TOTP(secret).now()}))
    assert app.post("/api/sensitive-token/").json() == {"done_for": user.username}


def test_password_reauthentication_is_throttled_and_locks(user, password, settings):
    """A user without MFA re-authenticates with the password: wrong ones count in the typed-code
    streak — one event each — and lock at the failure limit, also while the cache is down."""
    settings.PUSHMFA_CODE_FAILURE_LIMIT = 4
    client = Client()
    force_mfa_login(client, user)
    age_session(client, 10_000)
    url = "/mfa/api/reauth/password/"
    with mock.patch.object(throttle, "_reserve_in_cache", side_effect=throttle.CacheUnusable()):
        codes = [client.post(url, {"password": "wrong"}, **JSON).status_code for _ in range(6)]
    assert codes[0] == 400 and codes[-1] in (403, 429), codes
    failed = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.MFA_FAILED, detail__method="password")
    assert failed.count() <= 4
    assert throttle.is_locked(user)
    # The HTML page says so instead of failing.
    page = client.post("/mfa/reauthenticate/", {"action": "password", "password": password})
    assert page.status_code == 403


def test_reauthentication_password_is_taken_as_typed(user, settings):
    user.set_password("  spaced out  ")
    user.save()
    client = Client()
    force_mfa_login(client, user)
    age_session(client, 10_000)
    response = client.post("/mfa/api/reauth/password/", {"password": "  spaced out  "}, **JSON)
    assert response.status_code == 200, response.content
    too_long = client.post("/mfa/api/reauth/password/", {"password": "x" * 5000}, **JSON)
    assert too_long.status_code == 400
