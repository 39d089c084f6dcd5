"""The adapter hook that exchanges a completed app login for the site's own tokens: simplejwt."""
from __future__ import annotations

import pyotp
import pytest
from django.test import Client

from .conftest import AppClient

pytestmark = pytest.mark.django_db

JWT_WHOAMI = "/api/jwt-whoami/"


@pytest.fixture
def simplejwt(settings):
    settings.PUSHMFA_ADAPTER = "django_pushmfa.contrib.simplejwt.SimpleJWTAdapter"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_jwt_pair_only_after_the_mfa_step(simplejwt, user, password, add_totp):
    secret = add_totp(user)
    app = AppClient()
    pending = app.login(user.username, password).json()
    assert pending["status"] == "mfa_required" and "tokens" not in pending
    refused = app.post("api-totp-verify", {"code": "000000"}).json()
    assert "tokens" not in refused
    done = app.post("api-totp-verify", {"code": pyotp.TOTP(secret).now()})
    app.completed(done)
    tokens = done.json()["tokens"]
    assert set(tokens) == {"access", "refresh"}
    assert Client().get(JWT_WHOAMI, **bearer(tokens["access"])).json() == {"username": user.username}
    # the refresh token is a real simplejwt one: it refreshes
    from rest_framework_simplejwt.tokens import RefreshToken

    assert RefreshToken(tokens["refresh"])["user_id"] in (user.pk, str(user.pk))
    assert Client().get(JWT_WHOAMI, **bearer("not-a-jwt")).status_code == 401


def test_jwt_pair_for_a_user_without_mfa(simplejwt, user, password):
    body = AppClient().login(user.username, password).json()
    assert body["status"] == "authenticated"
    assert Client().get(JWT_WHOAMI, **bearer(body["tokens"]["access"])).status_code == 200


def test_push_approval_carries_the_pair(simplejwt, user, password, add_phone):
    phone = add_phone(user)
    app = AppClient()
    app.login(user.username, password)
    body = app.post("api-push-start").json()
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    done = app.get(body["poll_url"])
    app.completed(done)
    assert Client().get(JWT_WHOAMI, **bearer(done.json()["tokens"]["access"])).status_code == 200


def test_default_adapter_gives_no_tokens(user, password):
    body = AppClient().login(user.username, password).json()
    assert "tokens" not in body


def test_browsers_never_get_tokens(simplejwt, user, password, add_totp):
    """The hook is for app clients: a cookie browser's approval stays as v1 (no token, no pair)."""
    secret = add_totp(user)
    browser = Client()
    browser.post("/accounts/login/", {"username": user.username, "password": password})
    done = browser.post(
        "/mfa/api/totp/verify/",
        {"code": pyotp.TOTP(secret).now()},
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert done.json() == {"status": "approved", "redirect_url": "/"}


def test_jwt_pair_ends_with_its_session(simplejwt, user, password, add_totp):
    """The pair is bound to the login's session record: logging the app session out (or any other end
    of it: sign out everywhere else, "Your sessions", an MFA reset) ends its tokens too."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from django_pushmfa.models import UserSession

    secret = add_totp(user)
    app = AppClient()
    app.login(user.username, password)
    done = app.post("api-totp-verify", {"code": pyotp.TOTP(secret).now()})
    app.completed(done)
    tokens = done.json()["tokens"]
    refreshed = str(RefreshToken(tokens["refresh"]).access_token)  # what TokenRefreshView hands out
    for access in (tokens["access"], refreshed):
        assert Client().get(JWT_WHOAMI, **bearer(access)).status_code == 200
    assert app.post("api-app-logout").status_code in (200, 204)
    assert UserSession.objects.filter(user=user, ended_at__isnull=True).count() == 0
    for access in (tokens["access"], refreshed):
        refused = Client().get(JWT_WHOAMI, **bearer(access))
        assert refused.status_code == 401, refused.content
