"""App clients: CSRF only where the cookie is used, no mixing of header and cookie sessions,
the same answer for unknown users and wrong passwords, and the login's rate limits."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.urls import reverse

from .conftest import AppClient

pytestmark = pytest.mark.django_db

WHOAMI = "/api/token-whoami/"
JSON = {"content_type": "application/json", "HTTP_ACCEPT": "application/json"}


def cookie_login(user, password) -> Client:
    """A browser (cookie session, CSRF enforced) that did the password step."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/")
    assert page.status_code == 200
    browser.post(
        "/accounts/login/",
        {"username": user.username, "password": password, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
    )
    return browser


# --- CSRF: the cookie path keeps it; the header path cannot be ridden ---------------------------------------
def test_cookie_request_still_needs_csrf(user, password, add_totp):
    add_totp(user)
    browser = cookie_login(user, password)  # MFA pending in the cookie session
    # a cross-site form post: the cookie goes along, no CSRF token, no custom header possible
    forged = browser.post(
        reverse("pushmfa:api-totp-verify"), {"code": "123456"}, **JSON, HTTP_ORIGIN="https://evil.example"
    )
    assert (forged.status_code, forged.json()["code"]) == (403, "csrf_failed")
    ok = browser.post(
        reverse("pushmfa:api-totp-verify"),
        {"code": "000000"},
        **JSON,
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value,
    )
    assert ok.json()["code"] == "invalid_code"  # past the CSRF check


def test_header_with_a_wrong_token_does_not_fall_back_to_the_cookie(user, password):
    """A request with the cookie of a logged-in browser and any X-Session-Token that is not a valid
    app session is refused: it never runs as the cookie's user without CSRF."""
    browser = cookie_login(user, password)  # no MFA: logged in for real
    assert browser.get(reverse("pushmfa:api-credentials"), HTTP_ACCEPT="application/json").status_code == 200
    key = browser.cookies["sessionid"].value
    for token in ("", "bogus", key):
        response = browser.post(reverse("pushmfa:api-devices-pairing"), {}, **JSON, HTTP_X_SESSION_TOKEN=token)
        assert (response.status_code, response.json()["code"]) == (401, "not_authenticated"), token
    # and without the header, the cookie path still wants its CSRF token
    response = browser.post(reverse("pushmfa:api-devices-pairing"), {}, **JSON)
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_header_session_is_used_alone(user, password, add_totp):
    """Cookie of a fully logged-in browser + the token of a pending app session: the request is the
    app session's (mfa_required), never a blend of the two."""
    browser = cookie_login(user, password)  # logged in for real (no MFA yet)
    add_totp(user)
    app = AppClient()
    assert app.login(user.username, password).json()["status"] == "mfa_required"
    response = browser.get(
        reverse("pushmfa:api-credentials"), HTTP_ACCEPT="application/json", HTTP_X_SESSION_TOKEN=app.token
    )
    assert (response.status_code, response.json()["code"]) == (403, "mfa_required")
    response = browser.get(WHOAMI, HTTP_X_SESSION_TOKEN=app.token)
    assert response.status_code == 403
    # the cookie session is untouched by the app request: no new cookie, still logged in
    assert "sessionid" not in response.cookies
    assert browser.get(reverse("pushmfa:api-credentials"), HTTP_ACCEPT="application/json").status_code == 200


def test_app_login_ignores_the_callers_cookie_session(user, password):
    browser = cookie_login(user, password)
    cookie_key = browser.cookies["sessionid"].value
    response = browser.post(
        reverse("pushmfa:api-app-login"), {"username": user.username, "password": password}, **JSON
    )
    assert response.status_code == 200
    token = response.json()["session_token"]
    assert token != cookie_key
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    assert browser.get(WHOAMI).status_code == 200  # the browser's own session lives on


# --- the password step: one answer, hasher always run, rate limits ---------------------------------------------
def test_unknown_user_and_wrong_password_answer_the_same(user, password, user_factory):
    inactive = user_factory("bob", is_active=False)
    answers = []
    for username, pw in ((user.username, "wrong password"), ("nobody-here", password), (inactive.username, password)):
        with mock.patch.object(
            MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
        ) as enc:
            response = AppClient().login(username, pw)
        assert enc.call_count >= 1, username  # the hasher ran, for an unknown user too
        answers.append((response.status_code, response.json(), sorted(response.headers)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 400 and answers[0][1]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body", [{}, {"username": "a"}, {"username": 1, "password": "x"}, {"username": "a", "password": ""}, []]
)
def test_malformed_login_is_invalid(body):
    response = Client(enforce_csrf_checks=True).post(reverse("pushmfa:api-app-login"), body, **JSON)
    assert (response.status_code, response.json()["code"]) == (400, "invalid")


def test_rate_limited_per_user(user, password, settings):
    settings.PUSHMFA_APP_LOGIN_RATE_LIMIT_USER = (3, 300)
    for _ in range(3):
        assert AppClient().login(user.username, "wrong").status_code == 400
    response = AppClient().login(user.username, password)  # even the right password now waits
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 300
    # an unknown name is limited exactly the same way (the limit tells nothing about who exists)
    for _ in range(3):
        assert AppClient().login("ghost", "wrong").status_code == 400
    assert AppClient().login("ghost", "wrong").status_code == 429
    # another user from the same IP is not affected by the per-user limit
    assert AppClient().login("someone-else", "wrong").status_code == 400


def test_rate_limited_per_ip(user, password, settings):
    settings.PUSHMFA_APP_LOGIN_RATE_LIMIT_IP = (4, 300)
    for n in range(4):
        assert AppClient().login(f"spray{n}", "wrong").status_code == 400
    response = AppClient().login(user.username, password)
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    other_ip = Client().post(
        reverse("pushmfa:api-app-login"),
        {"username": user.username, "password": password},
        **JSON,
        REMOTE_ADDR="10.9.9.9",
    )
    assert other_ip.status_code == 200


def test_successful_logins_are_not_limited(user, password, settings):
    settings.PUSHMFA_APP_LOGIN_RATE_LIMIT_USER = (2, 300)
    for _ in range(5):
        assert AppClient().login(user.username, password).status_code == 200


@pytest.mark.parametrize("outage", ["raises", "answers_nothing"])
def test_cache_down_fails_closed(user, password, outage):
    """Down, the counter refuses every login: when the cache raises, and when it answers nothing (a
    django-redis cache with IGNORE_EXCEPTIONS turns an outage into None): no unthrottled guessing."""
    class DownCache:
        def add(self, *args, **kwargs):
            if outage == "raises":
                raise ConnectionError("redis is down")
            return None

        def incr(self, *args, **kwargs):
            return None

        def set(self, *args, **kwargs):
            return None

        def get(self, *args, **kwargs):
            return None

    with mock.patch("django_pushmfa.internal.login_throttle.caches", {"default": DownCache()}):
        for _ in range(8):
            response = AppClient().login(user.username, "wrong")
            assert (response.status_code, response.json()["code"]) == (503, "service_unavailable")
        response = AppClient().login(user.username, password)
    assert (response.status_code, response.json()["code"]) == (503, "service_unavailable")


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_cannot_pass_one_reading_of_the_count(user, settings):
    """Each attempt is counted before its password is checked: 20 guesses at once against a limit of 3
    get 3 answers of "wrong password" at the most; the rest wait."""
    from concurrent.futures import ThreadPoolExecutor

    settings.PUSHMFA_APP_LOGIN_RATE_LIMIT_USER = (3, 300)
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: AppClient().login(user.username, "wrong").status_code, range(20)))
    assert codes.count(400) <= 3 and codes.count(429) >= 17, codes


def test_an_ended_session_ends_its_token(user, password, add_totp):
    """Ending a session from elsewhere ("Your sessions", sign out everywhere else, an MFA reset) ends an
    app client's X-Session-Token too, on the app's endpoints and on the host's token views."""
    import pyotp

    from django_pushmfa import services
    from django_pushmfa.models import UserSession

    secret = add_totp(user)
    app = AppClient()
    app.login(user.username, password)
    app.completed(app.post("api-totp-verify", {"code": pyotp.TOTP(secret).now()}))
    assert app.get("/api/token-whoami/").status_code == 200
    assert app.get("api-credentials").status_code == 200
    services.reset_mfa(user, actor=None, reason="lost phone")
    assert UserSession.objects.filter(user=user, ended_at__isnull=True).count() == 0
    assert app.get("/api/token-whoami/").status_code == 401
    refused = app.get("api-credentials")
    assert refused.status_code in (401, 403) and refused.json()["code"] == "not_authenticated", refused.content


def test_signed_cookie_sessions_are_flagged(settings):
    from django_pushmfa.checks import check_app_client_sessions

    assert check_app_client_sessions() == []
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    assert [m.id for m in check_app_client_sessions()] == ["pushmfa.W014"]
