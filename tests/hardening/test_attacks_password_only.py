"""Finding 1 of issue 11: no password-only way into an enrolled account.

The site here kept DRF's default settings (``DEFAULT_AUTHENTICATION_CLASSES`` unset, so
``BasicAuthentication`` is active) and added ``obtain_auth_token`` and simplejwt's token view, as a
README reader plausibly would. An enrolled user's password must authenticate on none of these paths
(answered exactly as a wrong password is); a user without MFA is unaffected; the login page itself
still reaches the MFA step.
"""
from __future__ import annotations

import base64

import pytest
from django.contrib.auth import authenticate
from django.core import checks
from django.test import Client
from rest_framework.authentication import BasicAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from django_pushmfa.models import SecurityEvent

from .conftest import enroll_totp, is_logged_in, password_login

pytestmark = pytest.mark.django_db
SESSION = "rest_framework.authentication.SessionAuthentication"


@pytest.fixture
def drf_default_site(settings, monkeypatch):
    """The test site with DRF's *default* authentication classes and the token issuers mounted."""
    settings.ROOT_URLCONF = "tests.hardening.drf_default_site"
    settings.REST_FRAMEWORK = {}  # DEFAULT_AUTHENTICATION_CLASSES not set; DRF reloads api_settings
    # APIView binds DEFAULT_AUTHENTICATION_CLASSES when rest_framework.views is imported; a site whose
    # settings never named them gets DRF's defaults there, which this re-binds for the test's duration.
    monkeypatch.setattr(APIView, "authentication_classes", api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    names = [cls.__name__ for cls in APIView.authentication_classes]
    assert names == ["SessionAuthentication", "BasicAuthentication"], names


@pytest.fixture
def enrolled(user):
    enroll_totp(user)
    return user


@pytest.fixture
def plain(user_factory):
    return user_factory("bob")


def basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def refused_like_a_wrong_password(right, wrong) -> None:
    assert right.status_code == wrong.status_code, (right.status_code, right.content)
    assert right.status_code in (400, 401, 403)
    assert right.content == wrong.content
    assert right.get("WWW-Authenticate") == wrong.get("WWW-Authenticate")


def test_basic_authentication_refuses_an_enrolled_password(drf_default_site, enrolled, plain, password):
    client = Client()
    right = client.get("/drf/private/", **basic(enrolled.username, password))
    wrong = client.get("/drf/private/", **basic(enrolled.username, "not the password"))
    refused_like_a_wrong_password(right, wrong)
    assert right.status_code == 403  # DRF's first default class (SessionAuthentication) sends no challenge
    # A state-changing call never runs either.
    assert client.post("/drf/private/", **basic(enrolled.username, password)).status_code == 403
    # A user without MFA is unaffected.
    response = client.get("/drf/private/", **basic(plain.username, password))
    assert response.status_code == 200 and response.json() == {"username": "bob"}


def test_obtain_auth_token_issues_nothing_for_an_enrolled_user(drf_default_site, enrolled, plain, password):
    client = Client()
    right = client.post("/drf/token-auth/", {"username": enrolled.username, "password": password})
    wrong = client.post("/drf/token-auth/", {"username": enrolled.username, "password": "nope"})
    refused_like_a_wrong_password(right, wrong)
    assert not Token.objects.filter(user=enrolled).exists()
    response = client.post("/drf/token-auth/", {"username": plain.username, "password": password})
    assert response.status_code == 200 and Token.objects.get(user=plain).key == response.json()["token"]


def test_simplejwt_issues_nothing_for_an_enrolled_user(drf_default_site, enrolled, plain, password):
    client = Client()
    right = client.post("/drf/jwt/", {"username": enrolled.username, "password": password})
    wrong = client.post("/drf/jwt/", {"username": enrolled.username, "password": "nope"})
    refused_like_a_wrong_password(right, wrong)
    assert "access" not in right.content.decode()
    response = client.post("/drf/jwt/", {"username": plain.username, "password": password})
    assert response.status_code == 200 and set(response.json()) == {"access", "refresh"}


def test_a_sites_own_drf_password_class_is_refused(drf_default_site, enrolled, plain, password):
    client = Client()
    right = client.get("/drf/header-private/", HTTP_X_USERNAME=enrolled.username, HTTP_X_PASSWORD=password)
    wrong = client.get("/drf/header-private/", HTTP_X_USERNAME=enrolled.username, HTTP_X_PASSWORD="nope")
    refused_like_a_wrong_password(right, wrong)
    response = client.get("/drf/header-private/", HTTP_X_USERNAME=plain.username, HTTP_X_PASSWORD=password)
    assert response.status_code == 200


def test_a_plain_view_that_never_calls_login_gets_nothing(drf_default_site, enrolled, plain, password):
    """A Django view (not DRF) doing HTTP Basic by hand: the password authenticates, no login()
    follows, so the MFA middleware refuses the answer instead of letting it out."""
    client = Client()
    response = client.get("/plain/basic/", **basic(enrolled.username, password))
    assert response.status_code == 403
    assert b"alice" not in response.content
    assert SecurityEvent.objects.filter(user=enrolled, kind=SecurityEvent.Kind.PASSWORD_ONLY_REFUSED).exists()
    response = client.get("/plain/basic/", **basic(plain.username, password))
    assert response.status_code == 200 and response.json() == {"secret_of": "bob"}


def test_an_async_view_that_never_calls_login_gets_nothing(drf_default_site, enrolled, plain, password):
    """The same through the ASGI path (MFAMiddleware's async branch)."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    response = async_to_sync(AsyncClient().get)("/plain/async-basic/", headers=basic_header(enrolled, password))
    assert response.status_code == 403 and b"alice" not in response.content
    response = async_to_sync(AsyncClient().get)("/plain/async-basic/", headers=basic_header(plain, password))
    assert response.status_code == 200


def basic_header(user, password: str) -> dict:
    return {"Authorization": basic(user.username, password)["HTTP_AUTHORIZATION"]}


def test_refusals_leave_an_event(drf_default_site, enrolled, password):
    Client().get("/drf/private/", **basic(enrolled.username, password))
    event = SecurityEvent.objects.get(user=enrolled, kind=SecurityEvent.Kind.PASSWORD_ONLY_REFUSED)
    assert event.detail["path"] == "/drf/private/"


def test_authenticate_without_a_request_refuses_an_enrolled_user(enrolled, plain, password):
    """Callers that pass no request (Tastypie's BasicAuthentication, Client.login(), scripts)."""
    assert authenticate(username=enrolled.username, password=password) is None
    assert authenticate(username=plain.username, password=password) == plain
    assert Client().login(username=enrolled.username, password=password) is False


def test_the_login_pages_still_reach_the_mfa_step(drf_default_site, enrolled, plain, password):
    client = Client()
    assert password_login(client, enrolled, password).status_code == 302
    assert not is_logged_in(client) and client.session.get("pushmfa_pending")
    response = client.post("/custom-login/", {"username": enrolled.username, "password": password})
    assert response.json() == {"ok": True, "authenticated": False}
    client = Client()
    assert password_login(client, plain, password).status_code == 302 and is_logged_in(client)


def test_a_logged_in_user_may_confirm_their_own_password(drf_default_site, enrolled, password):
    """A fully logged-in session checking its own user's password (a "confirm your password" form)
    gains nothing and still works; the same password for another account in that session does not."""
    from django_pushmfa.testing.login import force_mfa_login

    client = Client()
    force_mfa_login(client, enrolled)
    response = client.get("/drf/header-private/", HTTP_X_USERNAME=enrolled.username, HTTP_X_PASSWORD=password)
    assert response.status_code == 200


def test_check_explains_the_password_only_paths(settings, monkeypatch):
    from django_pushmfa import checks as pushmfa_checks

    settings.REST_FRAMEWORK = {}  # DRF's defaults; the test settings install rest_framework.authtoken
    messages = {m.id: m for m in pushmfa_checks.check_password_only_paths()}
    assert sorted(messages) == ["pushmfa.W010", "pushmfa.W011"]
    assert "BasicAuthentication" in messages["pushmfa.W010"].msg and "default" in messages["pushmfa.W010"].msg
    assert "rest_framework.authtoken" in messages["pushmfa.W011"].msg
    assert isinstance(messages["pushmfa.W010"], checks.Warning)
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "rest_framework.authentication.SessionAuthentication",
            "rest_framework_simplejwt.authentication.JWTAuthentication",
        ]
    }
    messages = pushmfa_checks.check_password_only_paths()
    assert [m.id for m in messages] == ["pushmfa.W011"] and "rest_framework_simplejwt" in messages[0].msg
    settings.REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [SESSION]}
    monkeypatch.setattr(pushmfa_checks, "TOKEN_ISSUERS", ("knox",))
    assert pushmfa_checks.check_password_only_paths() == []
    settings.REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [f"{__name__}.MyBasic"]}
    assert [m.id for m in pushmfa_checks.check_password_only_paths()] == ["pushmfa.W010"]


class MyBasic(BasicAuthentication):
    """A site's subclass of BasicAuthentication: still a password path."""


def test_remote_user_backend_is_refused_by_a_check(settings):
    from django_pushmfa.checks import check_login_integration

    settings.AUTHENTICATION_BACKENDS = [
        "django_pushmfa.auth_backends.MFAModelBackend",
        "django.contrib.auth.backends.RemoteUserBackend",
    ]
    assert [m.id for m in check_login_integration()] == ["pushmfa.E011"]
