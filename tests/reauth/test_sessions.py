""""Your sessions and browsers": the registry, its API and account page, revoking one by one, and
"sign out everywhere else" (a step-up action)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_pushmfa.models import RememberedBrowser, SecurityEvent, UserSession

from .conftest import JSON, post, totp_now

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def logged_in(client: Client) -> bool:
    return client.get("/mfa/api/credentials/", **JSON).status_code == 200


@pytest.fixture
def two_browsers(user, login_with_password):
    laptop, phone = Client(HTTP_USER_AGENT=CHROME), Client(HTTP_USER_AGENT=FIREFOX)
    for client in (laptop, phone):
        login_with_password(client, user)
    return laptop, phone


def test_sessions_are_listed_with_this_one_first(user, two_browsers):
    laptop, _phone = two_browsers
    sessions = laptop.get("/mfa/api/sessions/", **JSON).json()["sessions"]
    assert [(s["browser"], s["os"], s["is_current"]) for s in sessions] == [
        ("Chrome 120", "Windows", True),
        ("Firefox 128", "Linux", False),
    ]
    assert set(sessions[0]) == {"id", "browser", "os", "ip", "location", "created_at", "last_seen_at", "is_current"}
    assert sessions[0]["ip"] == "127.0.0.1" and sessions[0]["location"] == "unknown location"


def test_sign_out_one_other_session(user, two_browsers):
    laptop, phone = two_browsers
    other = next(s for s in laptop.get("/mfa/api/sessions/", **JSON).json()["sessions"] if not s["is_current"])
    assert laptop.delete(f"/mfa/api/sessions/{other['id']}/", **JSON).status_code == 204
    assert not logged_in(phone) and logged_in(laptop)
    assert laptop.delete(f"/mfa/api/sessions/{other['id']}/", **JSON).status_code == 404
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.SESSION_ENDED).count() == 1


def test_cannot_end_this_session_or_another_users(user, user_factory, two_browsers, login_with_password):
    laptop, _phone = two_browsers
    mine = laptop.get("/mfa/api/sessions/", **JSON).json()["sessions"][0]
    assert laptop.delete(f"/mfa/api/sessions/{mine['id']}/", **JSON).status_code == 404
    assert laptop.delete("/mfa/api/sessions/not-an-id/", **JSON).json()["code"] == "not_found"
    bob = Client()
    login_with_password(bob, user_factory("bob"))
    assert bob.delete(f"/mfa/api/sessions/{mine['id']}/", **JSON).status_code == 404
    assert logged_in(laptop)


def test_sign_out_everywhere_else_is_a_step_up_action(user, two_browsers):
    laptop, phone = two_browsers
    session = laptop.session
    session["pushmfa_authenticated_at"] = 0
    session.save()
    refused = post(laptop, "/mfa/api/sessions/sign-out-others/")
    assert refused.status_code == 403 and refused.json()["code"] == "reauthentication_required"
    assert logged_in(phone)
    from django_pushmfa.testing.login import force_mfa_login

    fresh = Client()
    force_mfa_login(fresh, user)
    assert post(fresh, "/mfa/api/sessions/sign-out-others/").json() == {"ended": 2}
    assert not logged_in(laptop) and not logged_in(phone) and logged_in(fresh)


def test_logout_ends_the_record(user, two_browsers):
    laptop, _phone = two_browsers
    laptop.post("/accounts/logout/")
    assert UserSession.objects.filter(user=user, ended_at__isnull=True).count() == 1


def test_last_seen_writes_are_throttled(user, two_browsers, settings):
    laptop, _phone = two_browsers
    with CaptureQueriesContext(connection) as queries:
        laptop.get("/mfa/api/credentials/", **JSON)
    # the session check costs one indexed SELECT per request of a logged-in session, nothing more
    assert len([q for q in queries if "pushmfa_usersession" in q["sql"]]) == 1
    settings.PUSHMFA_SESSION_SEEN_INTERVAL = 0
    with CaptureQueriesContext(connection) as queries:
        laptop.get("/mfa/api/credentials/", **JSON)
    assert len([q for q in queries if q["sql"].startswith("UPDATE") and "pushmfa_usersession" in q["sql"]]) == 1


def test_account_page_lists_and_signs_out(user, two_browsers):
    laptop, phone = two_browsers
    page = laptop.get("/mfa/account/").content.decode()
    assert "Your sessions" in page and "Firefox 128" in page and "This session" in page
    other = UserSession.objects.filter(user=user, browser="Firefox 128").get()
    laptop.post("/mfa/account/", {"action": "end_session", "session": str(other.pk)})
    assert not logged_in(phone)


def test_sessions_without_a_record_from_before_the_registry_are_adopted(user):
    from django_pushmfa.testing.login import force_mfa_login

    old = Client()
    force_mfa_login(old, user)  # logs in without registering, as sessions made before the registry
    assert logged_in(old)
    assert UserSession.objects.filter(user=user).count() == 1
    # ...but after a recovery, an unregistered session may be one it meant to end: refused
    SecurityEvent.objects.create(user=user, kind=SecurityEvent.Kind.SESSIONS_ENDED)
    older = Client()
    force_mfa_login(older, user)
    assert not logged_in(older)


# --- remembered browsers ----------------------------------------------------------------------------
@pytest.fixture
def remembered(user, add_totp, login_with_password, settings):
    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    secret = add_totp(user)
    browser = Client(HTTP_USER_AGENT=FIREFOX)
    login_with_password(browser, user)
    post(browser, "/mfa/api/totp/verify/", {"code": totp_now(secret), "remember_browser": True})
    return browser


def test_remembered_browsers_listed_and_forgotten_one_by_one(user, remembered, login_with_password):
    cookie = remembered.cookies["pushmfa_trust"].value
    [listed] = remembered.get("/mfa/api/browsers/", **JSON).json()["browsers"]
    assert listed["browser"] == "Firefox 128" and listed["os"] == "Linux"

    again = Client()
    again.cookies["pushmfa_trust"] = cookie
    login_with_password(again, user)
    assert logged_in(again)  # the remembered browser skips the MFA step
    assert RememberedBrowser.objects.get().last_used_at is not None

    assert remembered.delete(f"/mfa/api/browsers/{listed['id']}/", **JSON).status_code == 204
    assert remembered.delete(f"/mfa/api/browsers/{listed['id']}/", **JSON).status_code == 404
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.BROWSER_FORGOTTEN).count() == 1
    later = Client()
    later.cookies["pushmfa_trust"] = cookie
    login_with_password(later, user)
    assert later.get("/mfa/api/credentials/", **JSON).json()["code"] == "mfa_required"


def test_a_cookie_without_a_record_is_not_trusted(user, remembered, login_with_password):
    from django.core import signing

    from django_pushmfa.internal import trust

    forged = signing.dumps({"u": str(user.pk), "f": trust.security_fingerprint(user)}, salt=trust.SALT)
    client = Client()
    client.cookies["pushmfa_trust"] = forged
    login_with_password(client, user)
    assert client.get("/mfa/api/credentials/", **JSON).json()["code"] == "mfa_required"


def test_account_page_forgets_a_browser(user, remembered):
    record = RememberedBrowser.objects.get()
    assert str(record.pk) in remembered.get("/mfa/account/").content.decode()
    remembered.post("/mfa/account/", {"action": "forget_browser", "browser": str(record.pk)})
    record.refresh_from_db()
    assert record.revoked_at is not None
