"""Finding 5 of issue 11: the remembered-browser cookie follows the site's cookie settings.

Behind a TLS-terminating proxy without ``SECURE_PROXY_SSL_HEADER`` every request looks like plain
HTTP to Django; the session cookie still carries ``Secure`` (``SESSION_COOKIE_SECURE``), and the
30-day cookie that skips the MFA step must too, with the session cookie's ``SameSite`` or stricter.
"""
from __future__ import annotations

import pyotp
import pytest

from .conftest import API, json_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def proxied_site(settings):
    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    settings.SESSION_COOKIE_SECURE = True
    settings.SESSION_COOKIE_SAMESITE = "Strict"
    settings.CSRF_COOKIE_SECURE = True
    return settings


def test_trust_cookie_is_secure_like_the_session_cookie(proxied_site, pending_client, totp_user):
    response = json_post(
        pending_client, API + "totp/verify/",
        {"code": pyotp.TOTP(totp_user.totp_secret).now(), "remember_browser": True},
    )
    assert response.status_code == 200, response.content
    cookie = response.cookies["pushmfa_trust"]
    session_cookie = response.cookies[proxied_site.SESSION_COOKIE_NAME]
    assert session_cookie["secure"] is True
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"


def test_trust_cookie_samesite_is_never_looser_than_lax(settings, pending_client, totp_user):
    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    settings.SESSION_COOKIE_SAMESITE = "None"
    settings.SESSION_COOKIE_SECURE = True
    response = json_post(
        pending_client, API + "totp/verify/",
        {"code": pyotp.TOTP(totp_user.totp_secret).now(), "remember_browser": True},
    )
    cookie = response.cookies["pushmfa_trust"]
    assert cookie["samesite"] == "Lax" and cookie["secure"] is True
