"""Contract, "Device endpoints / Signed requests": each signature rule, checked with an independent
signer (``tests/contract/client.py``)."""
from __future__ import annotations

import base64
import time
import uuid

import pytest

from tests.contract.client import PhoneKey, authorization_header
from tests.contract.conftest import assert_error

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "api/device/challenges/"


def assert_refused(response, code: str = "invalid_signature") -> None:
    assert_error(response, 401, code)
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.split()[0:1] == ["PushMFA-Signature"], response.headers


@pytest.fixture
def phones(make_user, enroll):
    user = make_user()
    p256, ed = enroll(user, "p256", "ed25519")
    return p256, ed


@pytest.mark.parametrize("index", [0, 1], ids=["p256", "ed25519"])
def test_signed_get_is_accepted(phones, index):
    phone = phones[index]
    for _ in range(5):  # several signatures, so '+', '/' and padding in the base64 all occur
        response = phone.challenges()
        assert response.status_code == 200, response.text
        assert response.json() == {"challenges": []}


def test_ed25519_signature_is_64_bytes(phones):
    _p256, ed = phones
    assert len(ed.key.sign(b"x")) == 64


def test_missing_header_is_not_authenticated(phones):
    assert_refused(phones[0].signed("GET", LIST, omit_authorization=True), "not_authenticated")


def test_query_string_is_signed(phones):
    phone = phones[0]
    assert phone.signed("GET", LIST, query="x=1&y=two").status_code == 200
    # signing the bare path of a request that has a query string is wrong
    assert_refused(phone.signed("GET", LIST, query="x=1", sign_path="/mfa/" + LIST))
    assert_refused(phone.signed("GET", LIST, query="x=1", sign_path="/mfa/" + LIST + "?x=2"))


def test_path_must_match(phones):
    phone = phones[0]
    assert_refused(phone.signed("GET", LIST, sign_path="/mfa/api/device/challenges"))
    assert_refused(phone.signed("GET", LIST, sign_path="/api/device/challenges/"))


def test_method_is_upper_case_and_signed(phones):
    phone = phones[0]
    assert_refused(phone.signed("GET", LIST, sign_method="POST"))
    # the canonical string uses the method upper-cased; a signer lower-casing it signs other bytes
    from tests.contract import client

    original = client.canonical_string

    def lower(method, path, ts, nonce, body):
        return original(method, path, ts, nonce, body).replace(b"\nGET\n", b"\nget\n")

    client.canonical_string = lower
    try:
        assert_refused(phone.signed("GET", LIST))
    finally:
        client.canonical_string = original


def test_body_hash_is_signed(make_user, enroll, pending):
    user = make_user()
    (phone,) = enroll(user)
    browser = pending(user)
    push = browser.api("POST", "api/push/", {}).json()
    path = f"api/device/challenges/{push['challenge_id']}/respond/"
    body = b'{"decision": "deny"}'
    # signed over another body: refused, and the challenge is untouched
    assert_refused(phone.signed("POST", path, content=body, sign_body=b'{"decision": "approve"}'))
    assert_refused(phone.signed("POST", path, content=body, sign_body=b""))
    assert phone.challenge(push["challenge_id"]).status_code == 200
    assert browser.api("GET", push["poll_url"]).json() == {"status": "pending"}
    # the exact bytes sent, hashed: accepted
    response = phone.signed("POST", path, content=body)
    assert response.status_code == 200 and response.json() == {"status": "denied"}


def test_empty_body_hash_is_of_the_empty_string(phones):
    phone = phones[1]
    # GET with no body: sha256("") — and not, say, sha256("{}")
    assert phone.signed("GET", LIST).status_code == 200
    assert_refused(phone.signed("GET", LIST, sign_body=b"{}"))


def test_p256_signature_must_be_der(phones):
    phone = phones[0]
    from tests.contract.client import canonical_string

    ts, nonce = str(int(time.time())), "n" * 8 + uuid.uuid4().hex
    raw = phone.key.sign_raw_rs(canonical_string("GET", "/mfa/" + LIST, ts, nonce, b""))
    assert_refused(phone.signed("GET", LIST, ts=ts, nonce=nonce, signature=raw))


def test_signature_base64_standard_alphabet(phones):
    phone = phones[0]
    # a URL-safe encoded signature differs from the standard one whenever it has '+' or '/'; try until it does
    for _ in range(50):
        ts, nonce = str(int(time.time())), uuid.uuid4().hex
        from tests.contract.client import canonical_string

        sig = phone.key.sign(canonical_string("GET", "/mfa/" + LIST, ts, nonce, b""))
        if base64.urlsafe_b64encode(sig) != base64.b64encode(sig):
            assert_refused(phone.signed("GET", LIST, ts=ts, nonce=nonce, signature=sig,
                                        sig_encoder=base64.urlsafe_b64encode))
            return
    pytest.fail("no signature with '+' or '/' in 50 tries")


def test_garbage_signature(phones):
    phone = phones[0]
    assert_refused(phone.signed("GET", LIST, sig_encoder=lambda sig: "not base64 at all!!"))
    assert_refused(phone.signed("GET", LIST, signature=b"\x00" * 70))
    assert_refused(phone.signed("GET", LIST, signature=b""))


@pytest.mark.parametrize("offset", [30, -30])
def test_timestamp_within_skew(phones, offset):
    assert phones[0].signed("GET", LIST, ts=int(time.time()) + offset).status_code == 200


@pytest.mark.parametrize("offset", [90, -90, 3600, -86400])
def test_timestamp_outside_skew(phones, offset):
    assert_refused(phones[0].signed("GET", LIST, ts=int(time.time()) + offset))


@pytest.mark.parametrize("ts", ["abc", "", "1e9", "-1", "NOW.5", "NOW000"])
def test_timestamp_malformed(phones, ts):
    now = str(int(time.time()))
    ts = ts.replace("NOW", now)  # "<now>.5": not whole seconds; "<now>000": milliseconds
    assert_refused(phones[0].signed("GET", LIST, ts=ts))


def test_timestamp_is_signed(phones):
    now = str(int(time.time()))
    assert_refused(phones[0].signed("GET", LIST, ts=now, sign_ts=str(int(now) - 1)))


def test_nonce_is_accepted_once(phones):
    phone = phones[0]
    nonce = uuid.uuid4().hex
    assert phone.signed("GET", LIST, nonce=nonce).status_code == 200
    assert_refused(phone.signed("GET", LIST, nonce=nonce))
    # also with a fresh timestamp and on another path
    assert_refused(phone.signed("PUT", "api/device/push-token/", {"push_token": "x" * 20}, nonce=nonce,
                                ts=int(time.time()) + 1))


def test_short_nonce_refused(phones):
    assert_refused(phones[0].signed("GET", LIST, nonce="short-nonce"))  # 11 characters
    assert phones[0].signed("GET", LIST, nonce="a" * 8 + uuid.uuid4().hex[:8]).status_code == 200  # 16


def test_unknown_or_malformed_device(phones):
    phone = phones[0]
    assert_refused(phone.signed("GET", LIST, device_id=str(uuid.uuid4())))
    assert_refused(phone.signed("GET", LIST, device_id="not-a-uuid"))
    # the other device's id with this device's key
    assert_refused(phone.signed("GET", LIST, device_id=phones[1].device_id))
    # the right id, someone else's key
    assert_refused(phone.signed("GET", LIST, key=PhoneKey.generate("p256")))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "PushMFA-Signature",
        'PushMFA-Signature device="x"',
        "PushMFA-Signature garbage garbage",
    ],
)
def test_malformed_header_is_401(phones, header):
    response = phones[0].signed("GET", LIST, authorization=header)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"detail", "code"} and body["code"] in ("not_authenticated", "invalid_signature")
    assert response.headers.get("www-authenticate", "").startswith("PushMFA-Signature")


def test_session_cookie_does_not_authenticate_a_device(make_user, signed_in, pair):
    user = make_user()
    browser = signed_in(user)
    pair(browser)
    response = browser.api("GET", LIST)
    assert_refused(response, "not_authenticated")


def test_push_token_never_authenticates(phones):
    phone = phones[0]
    header = authorization_header(phone.device_id, str(int(time.time())), uuid.uuid4().hex,
                                  base64.b64encode(phone.push_token.encode()).decode())
    assert_refused(phone.signed("GET", LIST, authorization=header))
    response = phone.http.get("/mfa/" + LIST, headers={"Authorization": f"Bearer {phone.push_token}"})
    assert response.status_code == 401


def test_query_string_signed_as_sent(phones):
    """Percent-escapes and '+' in the query string are signed exactly as sent."""
    phone = phones[0]
    for query in ("q=a%20b&r=%7e", "q=a+b&x=%2F", "q=caf%C3%A9", "a=1&a=2&b"):
        assert phone.signed("GET", LIST, query=query).status_code == 200, query


@pytest.mark.xfail(
    strict=True,
    reason=(
        "CONTRACT ambiguity: 'the path in the HTTP request line, as sent'. Under WSGI the raw request line is "
        "not available (wsgiref/runserver set no RAW_URI/REQUEST_URI); the server verifies against the path "
        "Django decoded, so a client that percent-escapes an unreserved character in the path ('%61' for 'a') "
        "gets 401 invalid_signature instead of the route's answer. Harmless for the app's plain-ASCII paths; "
        "the contract should say to sign the path exactly as the app's URLs spell it, escaping nothing extra."
    ),
)
def test_needlessly_escaped_path_signed_as_sent(phones):
    response = phones[0].signed("GET", "api/device/challenges/%61bc/")
    assert_error(response, 404, "not_found")
