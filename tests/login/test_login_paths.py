"""Every login path leaves an enrolled user in the MFA step, never logged in on a password alone."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from django_pushmfa.internal import pending
from django_pushmfa.models import SecurityEvent

from .conftest import HTML, JSON

pytestmark = pytest.mark.django_db

MFA_PAGE = "/mfa/authenticate/"


def assert_pending(client, user):
    session = client.session
    assert SESSION_KEY not in session
    assert session[pending.PENDING_KEY]["user_id"] == str(user.pk)


def assert_not_logged_in_anywhere(client):
    # A page request is sent to the MFA step, with next kept.
    response = client.get("/private/", **HTML)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == MFA_PAGE
    assert parse_qs(target.query)["next"] == ["/private/"]
    # The view itself (no HTML Accept, so the middleware does not redirect) sees an anonymous user.
    response = client.get("/private/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.get("/", HTTP_ACCEPT="application/json")
    assert response.content == b"home, authenticated=False"
    # The site's DRF view answers as for anonymous users.
    response = client.get("/api/whoami/", **JSON)
    assert response.status_code == 403
    # The app's account API says why.
    response = client.get(reverse("pushmfa:api-credentials"), **JSON)
    assert response.status_code == 403 and response.json()["code"] == "mfa_required"


def test_site_login_view(client, enrolled, login_with_password):
    response = login_with_password(client, enrolled, next="/private/")
    assert response.status_code == 302
    assert_pending(client, enrolled)
    assert client.session[pending.PENDING_KEY]["next"] == "/private/"
    assert_not_logged_in_anywhere(client)


def test_admin_login(client, staff_user, add_totp, login_with_password):
    add_totp(staff_user)
    response = login_with_password(client, staff_user, path="/admin/login/", next="/admin/")
    assert response.status_code == 302
    assert_pending(client, staff_user)
    response = client.get("/admin/", **HTML)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == MFA_PAGE
    # The admin itself (reached without an HTML Accept header) sees nobody logged in.
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert_not_logged_in_anywhere(client)


def test_custom_login_view(client, enrolled, password):
    response = client.post("/custom-login/", {"username": enrolled.username, "password": password})
    # login() ran, yet the view already sees an anonymous user afterwards.
    assert response.json() == {"ok": True, "authenticated": False}
    assert_pending(client, enrolled)
    assert_not_logged_in_anywhere(client)


def test_login_with_explicit_backend_still_needs_mfa(rf, enrolled):
    """login(request, user, backend=...) without authenticate(): the receiver is connected at startup."""
    from django.contrib.auth import login
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.post("/somewhere/")
    request.session = SessionStore()
    request.user = enrolled
    login(request, enrolled, backend="django_pushmfa.auth_backends.MFAModelBackend")
    assert SESSION_KEY not in request.session
    assert not request.user.is_authenticated
    assert pending.get(request).user_id == str(enrolled.pk)


def test_user_without_mfa_logs_in_normally(client, user, login_with_password):
    response = login_with_password(client, user)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)
    assert pending.PENDING_KEY not in client.session
    assert client.get("/private/", **HTML).status_code == 200
    assert client.get("/api/whoami/", **JSON).json() == {"username": user.username}


def test_backup_codes_alone_do_not_count(client, user, login_with_password):
    from django_pushmfa.backup_codes.internal.flows import generate_set

    generate_set(None, user)
    login_with_password(client, user)
    assert client.session[SESSION_KEY] == str(user.pk)


def test_wrong_password_starts_nothing(client, enrolled):
    response = client.post("/accounts/login/", {"username": enrolled.username, "password": "nope"})
    assert response.status_code == 200
    assert pending.PENDING_KEY not in client.session


def test_pages_of_the_app_static_and_logout_are_not_redirected(client, enrolled, login_with_password):
    login_with_password(client, enrolled)
    assert client.get(MFA_PAGE, **HTML).status_code == 200
    assert client.get("/static/pushmfa/pushmfa.js", **HTML).status_code != 302
    response = client.post("/accounts/logout/", **HTML)
    assert response.status_code in (200, 302)
    assert pending.PENDING_KEY not in client.session


def test_logout_ends_the_mfa_step(client, enrolled, login_with_password):
    login_with_password(client, enrolled)
    client.post("/accounts/logout/")
    response = client.get(reverse("pushmfa:api-methods"), **JSON)
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"
    response = client.get(MFA_PAGE, **HTML)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_pending_state_expires(client, enrolled, login_with_password, settings):
    login_with_password(client, enrolled)
    assert client.get(reverse("pushmfa:api-methods"), **JSON).status_code == 200
    settings.PUSHMFA_PENDING_TIMEOUT = 0
    response = client.get(reverse("pushmfa:api-methods"), **JSON)
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"
    settings.PUSHMFA_PENDING_TIMEOUT = 600
    # Dropped for good: a later request finds no login in progress either.
    assert client.get(reverse("pushmfa:api-methods"), **JSON).status_code == 403
    assert client.get("/private/", **HTML)["Location"].startswith("/accounts/login/")


def test_pending_state_expires_by_age(client, enrolled, login_with_password):
    login_with_password(client, enrolled)
    session = client.session
    state = session[pending.PENDING_KEY]
    state["started_at"] -= 601
    session[pending.PENDING_KEY] = state
    session.save()
    response = client.post(reverse("pushmfa:api-push-start"), {}, content_type="application/json", **JSON)
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"


def test_mfa_page_without_login_in_progress_redirects_to_login(client, db):
    response = client.get(MFA_PAGE, **HTML)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_browser_endpoints_without_login_in_progress(client, db):
    for method, name in (("get", "pushmfa:api-methods"), ("post", "pushmfa:api-push-start")):
        response = getattr(client, method)(reverse(name), **JSON)
        assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"


def test_totp_step_completes_login_and_rotates_session(client, user, add_totp, login_with_password):
    import pyotp

    secret = add_totp(user)
    login_with_password(client, user, next="/private/")
    key_before = client.session.session_key
    response = client.post(MFA_PAGE, {"action": "totp", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == "/private/"
    assert client.session.session_key != key_before
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session[pending.METHOD_KEY] == "totp"
    assert client.get("/private/", **HTML).status_code == 200
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.MFA_COMPLETED)
    assert event.detail == {"method": "totp"}


def test_unsafe_next_is_ignored(client, user, add_totp, login_with_password):
    import pyotp

    secret = add_totp(user)
    login_with_password(client, user, next="https://evil.example/")
    client.get(MFA_PAGE + "?next=//evil.example/x", **HTML)
    response = client.post(MFA_PAGE, {"action": "totp", "code": pyotp.TOTP(secret).now()})
    assert response["Location"] == "/"


def test_second_password_login_replaces_the_pending_one(client, user_factory, add_totp, login_with_password):
    first, second = user_factory(), user_factory()
    add_totp(first)
    add_totp(second)
    login_with_password(client, first)
    binding = client.session[pending.BINDING_KEY]
    login_with_password(client, second)
    assert client.session[pending.PENDING_KEY]["user_id"] == str(second.pk)
    assert client.session[pending.BINDING_KEY] != binding
