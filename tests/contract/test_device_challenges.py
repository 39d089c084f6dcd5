"""Contract, "Device endpoints": registration, the challenge list/detail, responding, the push token
and unregistering."""
from __future__ import annotations

import base64
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.contract.conftest import assert_error

pytestmark = pytest.mark.django_db(transaction=True)

CONTEXT_KEYS = {"location", "ip", "browser", "os", "requested_at"}


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    return parsed


@pytest.fixture
def login(push_user, pending):
    """(user, phone, browser, push) with a push started from a Chrome-on-Windows browser."""
    user, phone = push_user
    browser = pending(user)
    response = browser.api("POST", "api/push/", {})
    assert response.status_code == 201, response.text
    return user, phone, browser, response.json()


def check_challenge(body: dict, push: dict) -> None:
    assert set(body) >= {"challenge_id", "choices", "context", "expires_at"}
    assert body["challenge_id"] == push["challenge_id"]
    choices = body["choices"]
    assert isinstance(choices, list) and len(choices) == 3
    assert all(isinstance(c, str) and re.fullmatch(r"\d{2}", c) for c in choices), choices
    assert len(set(choices)) == 3
    assert push["display_number"] in choices
    context = body["context"]
    assert set(context) >= CONTEXT_KEYS, context
    assert context["ip"] in ("127.0.0.1", "::1"), context
    assert "Chrome" in (context["browser"] or ""), context
    assert "Windows" in (context["os"] or ""), context
    assert context["location"] is None or isinstance(context["location"], str)
    requested = _iso(context["requested_at"])
    assert abs(requested - datetime.now(UTC)) < timedelta(minutes=2)
    # the same instant (the two endpoints may print different fractions of a second)
    assert abs(_iso(body["expires_at"]) - _iso(push["expires_at"])) < timedelta(seconds=1)


def test_challenge_detail_and_list(login):
    _user, phone, _browser, push = login
    detail = phone.challenge(push["challenge_id"])
    assert detail.status_code == 200, detail.text
    check_challenge(detail.json(), push)
    listing = phone.challenges()
    assert listing.status_code == 200
    challenges = listing.json()["challenges"]
    assert [c["challenge_id"] for c in challenges] == [push["challenge_id"]]
    check_challenge(challenges[0], push)


def test_choices_are_in_random_order(push_user, pending, settings):
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (100, 900)
    settings.PUSHMFA_PUSH_RATE_LIMIT_IP = (100, 900)
    user, phone = push_user
    browser = pending(user)
    positions = set()
    for _ in range(30):
        push = browser.api("POST", "api/push/", {}).json()
        choices = phone.challenge(push["challenge_id"]).json()["choices"]
        assert len(choices) == 3 and push["display_number"] in choices
        positions.add(choices.index(push["display_number"]))
    # uniform positions miss one of the three in 30 draws with probability 3 * (2/3)^30 ≈ 1.5e-5
    assert positions == {0, 1, 2}


def test_entry_mode_has_no_choices(push_user, pending, settings):
    settings.PUSHMFA_NUMBER_MODE = "entry"
    user, phone = push_user
    browser = pending(user)
    push = browser.api("POST", "api/push/", {}).json()
    body = phone.challenge(push["challenge_id"]).json()
    assert body["choices"] is None
    assert phone.respond(push["challenge_id"], "approve", push["display_number"]).json() == {"status": "approved"}


def test_list_shows_only_pending_challenges_of_this_user(login, make_user, enroll, pending):
    _user, phone, _browser, push = login
    other = make_user()
    (other_phone,) = enroll(other)
    other_push = pending(other).api("POST", "api/push/", {}).json()
    assert [c["challenge_id"] for c in phone.challenges().json()["challenges"]] == [push["challenge_id"]]
    assert_error(phone.challenge(other_push["challenge_id"]), 404, "not_found")
    assert_error(phone.respond(other_push["challenge_id"], "deny"), 404, "not_found")
    assert other_phone.challenge(other_push["challenge_id"]).status_code == 200
    phone.respond(push["challenge_id"], "deny")
    assert phone.challenges().json() == {"challenges": []}


def test_approve(login):
    _user, phone, browser, push = login
    response = phone.respond(push["challenge_id"], "approve", push["display_number"])
    assert response.status_code == 200 and response.json() == {"status": "approved"}
    assert_error(phone.respond(push["challenge_id"], "approve", push["display_number"]), 409, "challenge_resolved")
    assert_error(phone.respond(push["challenge_id"], "deny"), 409, "challenge_resolved")
    assert browser.api("GET", push["poll_url"]).json()["status"] == "approved"


def test_approve_needs_selected_number(login):
    _user, phone, browser, push = login
    assert_error(phone.respond(push["challenge_id"], "approve"), 400, "invalid", extra_fields_allowed=True)
    assert browser.api("GET", push["poll_url"]).json() == {"status": "pending"}
    assert phone.respond(push["challenge_id"], "approve", push["display_number"]).status_code == 200


@pytest.mark.parametrize("body", [{"decision": "maybe"}, {}, {"decision": 1}, ["approve"]])
def test_bad_decision_is_invalid(login, body):
    _user, phone, browser, push = login
    response = phone.signed("POST", f"api/device/challenges/{push['challenge_id']}/respond/", body)
    assert_error(response, 400, "invalid", extra_fields_allowed=True)
    assert browser.api("GET", push["poll_url"]).json() == {"status": "pending"}


def test_wrong_number_denies_for_good(login):
    _user, phone, browser, push = login
    choices = phone.challenge(push["challenge_id"]).json()["choices"]
    wrong = next(c for c in choices if c != push["display_number"])
    assert_error(phone.respond(push["challenge_id"], "approve", wrong), 409, "wrong_number")
    assert_error(phone.respond(push["challenge_id"], "approve", push["display_number"]), 409, "challenge_resolved")
    assert browser.api("GET", push["poll_url"]).json() == {"status": "denied", "reason": "wrong_number"}
    assert browser.page("/private/").status_code == 302


def test_number_not_offered_is_wrong_too(login):
    _user, phone, browser, push = login
    choices = phone.challenge(push["challenge_id"]).json()["choices"]
    outside = next(f"{n:02d}" for n in range(10, 100) if f"{n:02d}" not in choices)
    assert_error(phone.respond(push["challenge_id"], "approve", outside), 409, "wrong_number")
    assert browser.api("GET", push["poll_url"]).json() == {"status": "denied", "reason": "wrong_number"}


def test_deny(login):
    _user, phone, browser, push = login
    assert phone.respond(push["challenge_id"], "deny").json() == {"status": "denied"}
    assert_error(phone.respond(push["challenge_id"], "approve", push["display_number"]), 409, "challenge_resolved")
    assert browser.api("GET", push["poll_url"]).json() == {"status": "denied", "reason": "denied"}


def test_report_denies_and_suspends_push(login, pending):
    user, phone, browser, push = login
    response = phone.respond(push["challenge_id"], "report")
    assert response.status_code == 200 and response.json() == {"status": "denied"}
    assert browser.api("GET", push["poll_url"]).json() == {"status": "denied", "reason": "reported"}
    assert_error(phone.respond(push["challenge_id"], "deny"), 409, "challenge_resolved")
    # default PUSHMFA_SUSPEND_AFTER_REPORTS = 1: push is suspended, other methods still work
    again = pending(user)
    assert_error(again.api("POST", "api/push/", {}), 423, "push_suspended")
    assert again.api("GET", "api/methods/").status_code == 200


def test_repeated_denials_suspend_push(push_user, pending):
    user, phone = push_user
    browser = pending(user)
    for _ in range(3):  # default PUSHMFA_SUSPEND_AFTER_DENIALS = 3
        push = browser.api("POST", "api/push/", {}).json()
        assert phone.respond(push["challenge_id"], "deny").json() == {"status": "denied"}
    assert_error(browser.api("POST", "api/push/", {}), 423, "push_suspended")


def test_expired_challenge_is_410(push_user, pending, settings):
    settings.PUSHMFA_CHALLENGE_TTL = 1
    user, phone = push_user
    browser = pending(user)
    push = browser.api("POST", "api/push/", {}).json()
    time.sleep(2.2)
    assert_error(phone.challenge(push["challenge_id"]), 410, "challenge_expired")
    assert_error(phone.respond(push["challenge_id"], "approve", push["display_number"]), 410, "challenge_expired")
    assert phone.challenges().json() == {"challenges": []}
    assert browser.api("GET", push["poll_url"]).json() == {"status": "expired"}
    assert browser.page("/private/").status_code == 302


def test_unknown_and_malformed_challenge_ids(push_user):
    _user, phone = push_user
    assert_error(phone.challenge(str(uuid.uuid4())), 404, "not_found")
    assert_error(phone.respond(str(uuid.uuid4()), "deny"), 404, "not_found")
    for bad in ("not-a-uuid", "1", "%20", "..%2F", "x" * 200):
        assert_error(phone.signed("GET", f"api/device/challenges/{bad}/"), 404, "not_found")
        assert_error(phone.respond(bad, "deny"), 404, "not_found")


# --- registration ------------------------------------------------------------------------------


@pytest.fixture
def account(make_user, signed_in):
    user = make_user()
    return user, signed_in(user)


def pairing_token(browser) -> dict:
    response = browser.api("POST", "api/devices/pairing/", {})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= {"pairing_token", "expires_at", "pairing_uri"}
    assert body["pairing_uri"].startswith("pushmfa://pair?")
    expires = _iso(body["expires_at"])
    now = datetime.now(UTC)
    assert now < expires <= now + timedelta(minutes=10, seconds=5)
    return body


@pytest.mark.parametrize("key_type", ["p256", "ed25519"])
@pytest.mark.parametrize("platform", ["fcm", "apns"])
def test_register(account, phone_factory, key_type, platform):
    _user, browser = account
    token = pairing_token(browser)["pairing_token"]
    phone = phone_factory(key_type, platform=platform)
    response = phone.register(token)
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"device_id"}
    uuid.UUID(phone.device_id)
    assert phone.challenges().status_code == 200
    listed = browser.api("GET", "api/credentials/").json()["credentials"]
    assert [(c["id"], c["method"]) for c in listed] == [(phone.device_id, "push")]


def test_pairing_token_works_once(account, phone_factory):
    _user, browser = account
    token = pairing_token(browser)["pairing_token"]
    assert phone_factory().register(token).status_code == 201
    assert_error(phone_factory().register(token), 400, "invalid_pairing_token")


def test_unknown_or_expired_pairing_token(account, phone_factory, settings):
    _user, browser = account
    assert_error(phone_factory().register("no-such-token-" + uuid.uuid4().hex), 400, "invalid_pairing_token")
    settings.PUSHMFA_PAIRING_TOKEN_TTL = 1
    token = pairing_token(browser)["pairing_token"]
    time.sleep(2.1)
    assert_error(phone_factory().register(token), 400, "invalid_pairing_token")


def _spki_b64(private_key) -> str:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.mark.parametrize(
    "overrides",
    [
        {"platform": "windows"},
        {"platform": None},
        {"push_token": None},
        {"push_token": ""},
        {"public_key": "not base64!"},
        {"public_key": base64.b64encode(b"\x30\x03\x02\x01\x01").decode()},
        {"public_key": "P384"},
        {"public_key": "RSA"},
        {"public_key": "P256-PEM"},
    ],
    ids=[
        "platform", "platform-null", "push-token-null", "push-token-blank",
        "key-not-b64", "key-not-spki", "key-p384", "key-rsa", "key-pem",
    ],
)
def test_register_malformed_fields(account, phone_factory, overrides):
    _user, browser = account
    token = pairing_token(browser)["pairing_token"]
    if overrides.get("public_key") == "P384":
        overrides = {"public_key": _spki_b64(ec.generate_private_key(ec.SECP384R1()))}
    elif overrides.get("public_key") == "RSA":
        overrides = {"public_key": _spki_b64(rsa.generate_private_key(public_exponent=65537, key_size=2048))}
    elif overrides.get("public_key") == "P256-PEM":
        pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        overrides = {"public_key": base64.b64encode(pem).decode()}
    phone = phone_factory()
    assert_error(phone.register(token, **overrides), 400, "invalid", extra_fields_allowed=True)
    # the token was not spent by a malformed request
    assert phone_factory().register(token).status_code == 201


def test_register_needs_no_session_and_no_csrf(account, phone_factory):
    _user, browser = account
    token = pairing_token(browser)["pairing_token"]
    phone = phone_factory()
    assert not phone.http.cookies
    assert phone.register(token).status_code == 201


# --- push token and unregistering ------------------------------------------------------------------


def test_push_token_update(push_user, pending):
    from django_pushmfa.push.backends import locmem

    user, phone = push_user
    new_token = "rotated-" + uuid.uuid4().hex
    response = phone.signed("PUT", "api/device/push-token/", {"push_token": new_token})
    assert response.status_code == 200, response.text
    assert response.json() == {"device_id": phone.device_id}
    locmem.outbox.clear()
    push = pending(user).api("POST", "api/push/", {}).json()
    message = locmem.wait_for_message(lambda m: m.data.get("challenge_id") == push["challenge_id"], 10)
    assert message is not None and message.device_token == new_token


def test_push_token_update_invalid(push_user):
    _user, phone = push_user
    for body in ({}, {"push_token": ""}, {"push_token": 5}):
        assert_error(phone.signed("PUT", "api/device/push-token/", body), 400, "invalid", extra_fields_allowed=True)


def test_unregister(push_user, pending, browser_factory, password):
    user, phone = push_user
    response = phone.signed("DELETE", "api/device/")
    assert response.status_code == 204, response.text
    assert response.content == b""
    for call in (
        lambda: phone.challenges(),
        lambda: phone.signed("PUT", "api/device/push-token/", {"push_token": "z" * 20}),
        lambda: phone.signed("DELETE", "api/device/"),
    ):
        refused = call()
        assert_error(refused, 401, "invalid_signature")
        assert refused.headers["www-authenticate"].startswith("PushMFA-Signature")
    # the user has no MFA left: the password alone logs in again
    browser = browser_factory()
    browser.login(user.get_username(), password)
    assert browser.page("/private/").status_code == 200
    assert browser.api("GET", "api/credentials/").json() == {"credentials": []}


def test_entry_mode_wrong_number(push_user, pending, settings):
    settings.PUSHMFA_NUMBER_MODE = "entry"
    user, phone = push_user
    browser = pending(user)
    push = browser.api("POST", "api/push/", {}).json()
    wrong = f"{(int(push['display_number']) + 1) % 100:02d}"
    assert_error(phone.respond(push["challenge_id"], "approve", wrong), 409, "wrong_number")
    assert_error(phone.respond(push["challenge_id"], "approve", push["display_number"]), 409, "challenge_resolved")
    assert browser.api("GET", push["poll_url"]).json() == {"status": "denied", "reason": "wrong_number"}


def test_other_methods_work_while_push_is_suspended(make_user, signed_in, pair, pending):
    import pyotp

    user = make_user()
    account = signed_in(user)
    phone = pair(account)
    secret = account.api("POST", "api/totp/setup/", {}).json()["secret"]
    confirm = account.api("POST", "api/totp/confirm/", {"code": pyotp.TOTP(secret).at(time.time() - 30)})
    assert confirm.status_code == 201
    browser = pending(user)
    push = browser.api("POST", "api/push/", {}).json()
    phone.respond(push["challenge_id"], "report")
    assert_error(browser.api("POST", "api/push/", {}), 423, "push_suspended")
    verify = browser.api("POST", "api/totp/verify/", {"code": pyotp.TOTP(secret).now()})
    assert verify.status_code == 200, verify.text
    assert verify.json()["status"] == "approved"
