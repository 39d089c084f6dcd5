"""Contract, WebAuthn endpoints: JSON-form options, registering a security key, logging in with it."""
from __future__ import annotations

import pytest

from tests.contract.authenticator import SoftKey, b64url_decode
from tests.contract.conftest import assert_error

pytestmark = pytest.mark.django_db(transaction=True)

# tests/settings.py: PUSHMFA_WEBAUTHN_RP_ID = "testserver", PUSHMFA_WEBAUTHN_ORIGINS = ["http://testserver"]
RP_ID, ORIGIN = "testserver", "http://testserver"


def unwrap(options: dict) -> dict:
    return options.get("publicKey", options)


def register_key(account) -> tuple[SoftKey, dict]:
    begin = account.api("POST", "api/webauthn/register/begin/", {})
    assert begin.status_code == 200, begin.text
    options = unwrap(begin.json())
    # JSON form: binary values are base64url strings
    assert isinstance(options["challenge"], str) and len(b64url_decode(options["challenge"])) >= 16
    assert isinstance(options["user"]["id"], str)
    key = SoftKey(RP_ID, ORIGIN)
    complete = account.api("POST", "api/webauthn/register/complete/", key.create(options))
    assert complete.status_code == 201, complete.text
    return key, complete.json()


def test_register_and_log_in_with_a_security_key(make_user, signed_in, pending):
    user = make_user()
    account = signed_in(user)
    key, credential = register_key(account)
    assert set(credential) >= {"id", "method", "label", "is_primary", "created_at", "last_used_at"}
    assert credential["method"] == "webauthn"
    listed = account.api("GET", "api/credentials/").json()["credentials"]
    assert [c["id"] for c in listed] == [credential["id"]]

    browser = pending(user)
    assert browser.page("/private/").status_code == 302
    assert [m["method"] for m in browser.api("GET", "api/methods/").json()["methods"]] == ["webauthn"]
    begin = browser.api("POST", "api/webauthn/begin/", {})
    assert begin.status_code == 200, begin.text
    options = unwrap(begin.json())
    assert isinstance(options["challenge"], str)
    assertion = key.get(options)
    complete = browser.api("POST", "api/webauthn/complete/", assertion)
    assert complete.status_code == 200, complete.text
    body = complete.json()
    assert body["status"] == "approved" and isinstance(body["redirect_url"], str)
    assert browser.page("/private/").status_code == 200


def test_replayed_or_foreign_assertion_is_refused(make_user, signed_in, pending):
    user = make_user()
    key, _ = register_key(signed_in(user))
    browser = pending(user)
    options = unwrap(browser.api("POST", "api/webauthn/begin/", {}).json())
    stranger = SoftKey(RP_ID, ORIGIN)
    stranger.credential_id = key.credential_id  # same id, another private key
    refused = browser.api("POST", "api/webauthn/complete/", stranger.get(options))
    assert refused.status_code in (400, 403), refused.text
    body = refused.json()
    assert set(body) >= {"detail", "code"}
    assert browser.page("/private/").status_code == 302
    # a garbage body is a 400 with the contract's shape, never a 500
    garbage = browser.api("POST", "api/webauthn/complete/", {"id": "x", "response": {}})
    assert garbage.status_code == 400
    assert set(garbage.json()) >= {"detail", "code"}


def test_registration_needs_full_login(make_user, signed_in, pending):
    user = make_user()
    register_key(signed_in(user))
    browser = pending(user)
    assert_error(browser.api("POST", "api/webauthn/register/begin/", {}), 403, "mfa_required")
