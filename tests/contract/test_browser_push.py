"""Contract, "Browser endpoints": the method list, starting a push, polling it, and what a pending
browser may see."""
from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.contract.conftest import assert_error, shared_sqlite_connection

pytestmark = pytest.mark.django_db(transaction=True)


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{value} has no UTC offset"
    return parsed


def start_push(browser) -> dict:
    response = browser.api("POST", "api/push/", {})
    assert response.status_code == 201, response.text
    return response.json()


def poll(browser, push: dict, **params):
    return browser.api("GET", push["poll_url"], params={k: str(v) for k, v in params.items()} or None)


def test_methods_shape_order_and_generic_labels(make_user, signed_in, pair, pending):
    user = make_user()
    account = signed_in(user)
    phone = pair(account, name="Alice's Pixel 8 Pro")
    secret = account.api("POST", "api/totp/setup/", {}).json()["secret"]
    import pyotp

    assert account.api("POST", "api/totp/confirm/", {"code": pyotp.TOTP(secret).now()}).status_code == 201
    assert account.api("POST", "api/backup-codes/", {}).status_code == 201

    browser = pending(user)
    response = browser.api("GET", "api/methods/")
    assert response.status_code == 200
    methods = response.json()["methods"]
    kinds = [m["method"] for m in methods]
    assert sorted(kinds) == ["backup_code", "push", "totp"]
    for entry in methods:
        assert set(entry) >= {"method", "label", "is_primary"}
        assert isinstance(entry["label"], str) and entry["label"]
        assert isinstance(entry["is_primary"], bool)
    assert [m["is_primary"] for m in methods].count(True) == 1
    assert methods[0]["is_primary"] is True, "the primary method comes first"
    # the rest in the configured priority order (default: webauthn, push, totp, backup_code)
    priority = ["webauthn", "push", "totp", "backup_code"]
    rest = kinds[1:]
    assert rest == sorted(rest, key=priority.index)
    assert "Pixel" not in response.text and phone.name not in response.text


def test_revoked_credentials_never_appear(make_user, signed_in, pair, pending):
    user = make_user()
    account = signed_in(user)
    pair(account)
    import pyotp

    secret = account.api("POST", "api/totp/setup/", {}).json()["secret"]
    assert account.api("POST", "api/totp/confirm/", {"code": pyotp.TOTP(secret).now()}).status_code == 201
    creds = account.api("GET", "api/credentials/").json()["credentials"]
    totp_id = next(c["id"] for c in creds if c["method"] == "totp")
    assert account.api("DELETE", f"api/credentials/{totp_id}/").status_code == 204
    methods = pending(user).api("GET", "api/methods/").json()["methods"]
    assert [m["method"] for m in methods] == ["push"]


def test_start_push_fields(push_user, pending):
    user, _ = push_user
    browser = pending(user)
    before = datetime.now(UTC)
    response = browser.api("POST", "api/push/", {})
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"challenge_id", "display_number", "expires_at", "poll_url"}
    uuid.UUID(body["challenge_id"])
    assert isinstance(body["display_number"], str) and re.fullmatch(r"\d{2}", body["display_number"])
    expires = _iso(body["expires_at"])
    assert before < expires <= before + timedelta(seconds=10 * 60 + 5)
    assert body["poll_url"].startswith("/") and not body["poll_url"].startswith("//")
    assert body["challenge_id"] in body["poll_url"]
    first = poll(browser, body)
    assert first.status_code == 200 and first.json() == {"status": "pending"}


def test_poll_wait_zero_answers_at_once(push_user, pending):
    user, _ = push_user
    browser = pending(user)
    push = start_push(browser)
    started = time.monotonic()
    response = poll(browser, push, wait=0)
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert time.monotonic() - started < 5


def test_poll_wait_times_out_pending(push_user, pending):
    user, _ = push_user
    browser = pending(user)
    push = start_push(browser)
    started = time.monotonic()
    response = poll(browser, push, wait=2)
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert 1.5 <= elapsed < 15, elapsed


@pytest.mark.parametrize("wait", ["30", "31", "3600"])
def test_poll_wait_returns_as_soon_as_approved(push_user, pending, wait):
    user, phone = push_user
    browser = pending(user)
    push = start_push(browser)
    if shared_sqlite_connection():
        # The live server's threads share one in-memory SQLite connection, so a request served while
        # the long poll writes its login can fail inside SQLite; approve first (the wait is still
        # accepted, and answers at once). The concurrent version runs on PostgreSQL.
        assert phone.respond(push["challenge_id"], "approve", push["display_number"]).status_code == 200
        started = time.monotonic()
        response = browser.api("GET", push["poll_url"], params={"wait": wait})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "approved"
        assert time.monotonic() - started < 10
        return
    result = {}

    def approve_later():
        time.sleep(1.0)
        result["respond"] = phone.respond(push["challenge_id"], "approve", push["display_number"])

    thread = threading.Thread(target=approve_later)
    started = time.monotonic()
    thread.start()
    response = browser.api("GET", push["poll_url"], params={"wait": wait})
    elapsed = time.monotonic() - started
    thread.join(30)
    assert result["respond"].status_code == 200, result["respond"].text
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    assert 0.5 < elapsed < 20, elapsed


@pytest.mark.parametrize("wait", ["-1", "abc", "1.5", "+-3"])
def test_poll_wait_invalid(push_user, pending, wait):
    user, _ = push_user
    browser = pending(user)
    push = start_push(browser)
    assert_error(browser.api("GET", push["poll_url"], params={"wait": wait}), 400, "invalid",
                 extra_fields_allowed=True)


def test_approval_logs_in_once(push_user, pending):
    user, phone = push_user
    browser = pending(user)
    push = start_push(browser)
    assert phone.respond(push["challenge_id"], "approve", push["display_number"]).json() == {"status": "approved"}
    response = poll(browser, push)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved"
    assert isinstance(body["redirect_url"], str) and body["redirect_url"]
    # logged in for real: the site's views now see the user
    assert browser.page("/private/").status_code == 200
    whoami = browser.api("GET", "/api/whoami/")
    assert whoami.status_code == 200 and whoami.json() == {"username": user.get_username()}
    assert browser.api("GET", "api/credentials/").status_code == 200
    # consumed once
    again = poll(browser, push)
    assert again.status_code == 200 and again.json() == {"status": "consumed"}
    assert "redirect_url" not in again.json()


def test_redirect_url_honours_next(push_user, browser_factory, password):
    user, phone = push_user
    browser = browser_factory()
    browser.login(user.get_username(), password)
    page = browser.page("/private/")
    assert page.status_code == 302
    browser.page(page.headers["location"])  # the MFA page with next=/private/
    push = start_push(browser)
    phone.respond(push["challenge_id"], "approve", push["display_number"])
    body = poll(browser, push).json()
    assert body["status"] == "approved"
    assert body["redirect_url"].endswith("/private/")


def test_consumed_approval_logs_nobody_else_in(push_user, pending):
    user, phone = push_user
    browser = pending(user)
    push = start_push(browser)
    phone.respond(push["challenge_id"], "approve", push["display_number"])
    assert poll(browser, push).json()["status"] == "approved"
    browser.logout()
    # same browser, after logout: the poll URL is no longer good for anything
    response = poll(browser, push)
    assert response.status_code in (403, 404)
    assert browser.page("/private/").status_code == 302


def test_challenge_of_another_session_is_not_found(push_user, pending):
    user, phone = push_user
    owner = pending(user)
    push = start_push(owner)
    other = pending(user)  # same user, another browser
    assert_error(poll(other, push), 404, "not_found")
    phone.respond(push["challenge_id"], "approve", push["display_number"])
    assert_error(poll(other, push), 404, "not_found")
    assert other.page("/private/").status_code == 302
    assert poll(owner, push).json()["status"] == "approved"


def test_denied_poll(push_user, pending):
    user, phone = push_user
    browser = pending(user)
    push = start_push(browser)
    assert phone.respond(push["challenge_id"], "deny").json() == {"status": "denied"}
    body = poll(browser, push).json()
    assert body == {"status": "denied", "reason": "denied"}
    assert browser.page("/private/").status_code == 302


def test_expired_poll(push_user, pending, settings):
    settings.PUSHMFA_CHALLENGE_TTL = 1
    user, _ = push_user
    browser = pending(user)
    push = start_push(browser)
    time.sleep(2.2)
    response = poll(browser, push)
    assert response.status_code == 200 and response.json() == {"status": "expired"}


def test_push_requires_csrf(push_user, pending):
    user, _ = push_user
    browser = pending(user)
    response = browser.api("POST", "api/push/", {}, csrf=False)
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"detail", "code"} and isinstance(body["code"], str)


def test_nothing_personal_reaches_a_pending_browser(make_user, enroll, pending):
    user = make_user()
    device_name = "Zorglub Unique Device 4242"
    (phone,) = enroll(user, "p256", names=(device_name,))
    browser = pending(user)
    browser.page("/private/")
    browser.page("/mfa/authenticate/")
    browser.api("GET", "api/methods/")
    push = start_push(browser)
    poll(browser, push, wait=0)
    phone.respond(push["challenge_id"], "deny")
    poll(browser, push)
    second = start_push(browser)
    browser.api("POST", "api/totp/verify/", {"code": "000000"})
    browser.api("POST", "api/backup-codes/verify/", {"code": "nope-nope"})
    browser.api("GET", "api/push/not-a-uuid/")
    assert browser.api("GET", second["poll_url"]).json()["status"] == "pending"

    # what the phone sees for the same challenge: the browser's IP is there, proving the scan's target
    context = phone.challenge(second["challenge_id"]).json()["context"]
    ips = {"127.0.0.1", "::1", context["ip"]} - {None, ""}

    assert len(browser.responses) >= 10
    for response in browser.responses:
        raw = response.content.decode("utf-8", "replace")
        where = f"{response.request.method} {response.request.url}"
        assert str(user.pk) not in raw, where
        assert device_name not in raw, where
        for ip in ips:
            assert ip not in raw, (where, ip)
        for name, value in response.headers.items():
            if name.lower() == "set-cookie":
                continue
            assert str(user.pk) not in value and device_name not in value, (where, name)


def test_wait_is_capped_by_the_configured_maximum(push_user, pending, settings):
    """A larger wait counts as the maximum (30 by default; shortened here so the test is quick)."""
    settings.PUSHMFA_LONG_POLL_MAX_WAIT = 2
    user, _ = push_user
    browser = pending(user)
    push = start_push(browser)
    started = time.monotonic()
    response = poll(browser, push, wait=31)
    assert response.status_code == 200 and response.json() == {"status": "pending"}
    assert time.monotonic() - started < 15


def test_fully_logged_in_session_has_no_login_in_progress(make_user, signed_in):
    browser = signed_in(make_user())
    assert_error(browser.api("GET", "api/methods/"), 403, "mfa_not_in_progress")
    assert_error(browser.api("POST", "api/push/", {}), 403, "mfa_not_in_progress")


def test_mfa_step_expires(push_user, pending, settings):
    settings.PUSHMFA_PENDING_TIMEOUT = 1
    user, _ = push_user
    browser = pending(user)
    time.sleep(2.2)
    assert_error(browser.api("GET", "api/methods/"), 403, "mfa_not_in_progress")
    assert_error(browser.api("POST", "api/push/", {}), 403, "mfa_not_in_progress")


@pytest.mark.skipif(
    "shared_sqlite_connection()",
    reason="concurrent requests: the live server's threads share one in-memory SQLite connection; "
    "runs with PUSHMFA_TEST_DB=postgres",
)
def test_exactly_one_response_changes_a_challenge(push_user, pending):
    user, phone = push_user
    browser = pending(user)
    push = start_push(browser)
    decisions = [("approve", push["display_number"]), ("deny", None), ("report", None)] * 3
    results = [None] * len(decisions)
    barrier = threading.Barrier(len(decisions))

    def respond(i, decision, number):
        barrier.wait(10)
        results[i] = phone.respond(push["challenge_id"], decision, number)

    threads = [threading.Thread(target=respond, args=(i, *d)) for i, d in enumerate(decisions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) == 1, [(r.status_code, r.text) for r in results]
    for response in results:
        if response.status_code != 200:
            assert_error(response, 409, "challenge_resolved")
    final = poll(browser, push).json()["status"]
    assert final == winners[0].json()["status"]


def test_service_unavailable_when_the_store_is_down(push_user, pending, settings):
    user, _ = push_user
    browser = pending(user)
    settings.CACHES = {
        **settings.CACHES,
        "unreachable": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        },
    }
    settings.PUSHMFA_CACHE_ALIAS = "unreachable"
    assert_error(browser.api("POST", "api/push/", {}), 503, "service_unavailable")
    assert browser.page("/private/").status_code == 302
