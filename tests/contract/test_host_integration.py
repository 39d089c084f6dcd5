"""Contract, "Host-site integration": what an MFA-pending session looks like to the host site."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.contract.conftest import assert_error

pytestmark = pytest.mark.django_db(transaction=True)

MFA_PAGE = "/mfa/authenticate/"


def _redirected_to_mfa(response, next_path: str) -> None:
    assert response.status_code in (302, 303), (response.status_code, response.text)
    location = urlsplit(response.headers["location"])
    assert location.path == MFA_PAGE, response.headers["location"]
    assert parse_qs(location.query).get("next") == [next_path], response.headers["location"]


def test_mfa_page_name_is_the_contract_path():
    from django.urls import reverse

    assert reverse("pushmfa:authenticate") == MFA_PAGE


def test_user_without_mfa_logs_in_as_before(make_user, signed_in):
    user = make_user()
    browser = signed_in(user)
    assert browser.page("/private/").status_code == 200
    whoami = browser.api("GET", "/api/whoami/")
    assert whoami.status_code == 200 and whoami.json() == {"username": user.get_username()}


def test_pending_session_is_anonymous_to_the_site(push_user, pending, browser_factory):
    user, _phone = push_user
    browser = pending(user)

    _redirected_to_mfa(browser.page("/private/"), "/private/")
    # Any page, not only @login_required ones, and with its query string kept in next.
    _redirected_to_mfa(browser.page("/", q="1"), "/?q=1")

    anonymous = browser_factory()
    expected = anonymous.api("GET", "/api/whoami/")
    whoami = browser.api("GET", "/api/whoami/")
    assert (whoami.status_code, whoami.json()) == (expected.status_code, expected.json())
    assert whoami.status_code in (401, 403)

    # A non-page request (JSON) to a site view is not redirected; the view sees an anonymous user.
    home = browser.api("GET", "/")
    assert home.status_code == 200 and "authenticated=False" in home.text

    for method, path in [
        ("GET", "api/credentials/"),
        ("POST", "api/devices/pairing/"),
        ("POST", "api/totp/setup/"),
        ("POST", "api/backup-codes/"),
    ]:
        assert_error(browser.api(method, path, {} if method == "POST" else None), 403, "mfa_required")

    # The app's own MFA page is not redirected away.
    assert browser.page(MFA_PAGE).status_code == 200


def test_login_redirects_to_the_mfa_page(push_user, browser_factory, password):
    user, _ = push_user
    browser = browser_factory()
    response = browser.login(user.get_username(), password, next_url="/private/")
    assert response.status_code == 302
    # The site's LoginView redirects to next; the middleware sends that page request to the MFA step.
    target = response.headers["location"]
    if urlsplit(target).path == MFA_PAGE:  # sent straight to the MFA step, next kept
        assert parse_qs(urlsplit(target).query).get("next") == ["/private/"], target
        assert browser.page(target).status_code == 200
    else:
        assert urlsplit(target).path == "/private/", target
        _redirected_to_mfa(browser.page(target), "/private/")


def test_custom_login_view_also_leaves_the_session_pending(push_user, browser_factory, password):
    user, _ = push_user
    browser = browser_factory()
    browser.page("/accounts/login/")
    response = browser.http.post("/custom-login/", data={"username": user.get_username(), "password": password})
    assert response.status_code == 200
    assert response.json()["ok"] is True
    _redirected_to_mfa(browser.page("/private/"), "/private/")
    methods = browser.api("GET", "api/methods/")
    assert methods.status_code == 200


def test_logout_ends_the_pending_step(push_user, pending):
    user, _ = push_user
    browser = pending(user)
    assert browser.api("GET", "api/methods/").status_code == 200
    logout = browser.logout()
    assert logout.status_code in (200, 302)
    assert_error(browser.api("GET", "api/methods/"), 403, "mfa_not_in_progress")
    private = browser.page("/private/")
    assert private.status_code == 302
    assert urlsplit(private.headers["location"]).path == "/accounts/login/"


def test_browser_endpoint_without_password_step(browser_factory):
    browser = browser_factory()
    browser.page("/accounts/login/")
    assert_error(browser.api("GET", "api/methods/"), 403, "mfa_not_in_progress")
    assert_error(browser.api("POST", "api/push/", {}), 403, "mfa_not_in_progress")
    assert_error(browser.api("POST", "api/totp/verify/", {"code": "123456"}), 403, "mfa_not_in_progress")
    assert_error(browser.api("POST", "api/backup-codes/verify/", {"code": "abcd"}), 403, "mfa_not_in_progress")


def test_backup_codes_alone_do_not_make_mfa(make_user, signed_in, pending):
    user = make_user()
    browser = signed_in(user)
    assert browser.api("POST", "api/backup-codes/", {}).status_code == 201
    browser.logout()
    again = pending(user)
    assert again.page("/private/").status_code == 200


def test_admin_login_is_also_pending(make_user, enroll, browser_factory, password):
    user = make_user()
    user.is_staff = user.is_superuser = True
    user.save()
    enroll(user)
    browser = browser_factory()
    response = browser.login(user.get_username(), password, path="/admin/login/", next_url="/admin/")
    assert response.status_code == 302, response.text
    _redirected_to_mfa(browser.page("/admin/"), "/admin/")


def test_logout_and_static_files_are_not_redirected(push_user, pending):
    user, _ = push_user
    browser = pending(user)
    for path in ("/static/site.css", "/accounts/logout/"):
        response = browser.page(path)
        location = response.headers.get("location", "")
        assert not urlsplit(location).path.startswith(MFA_PAGE), (path, response.status_code, location)
