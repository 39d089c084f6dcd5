"""WebAuthn: registration and login driven by the software authenticator, and every refusal."""

from __future__ import annotations

import pytest
from django.core import mail

from django_pushmfa.models import MFACredential, SecurityEvent, WebAuthnKey

from .authenticator import SoftwareAuthenticator, b64url, b64url_decode
from .conftest import JSONClient

pytestmark = pytest.mark.django_db


def begin_login(c: JSONClient) -> dict:
    response = c.post_json("api-webauthn-begin")
    assert response.status_code == 200, response.content
    return response.json()


def test_user_without_phone_registers_a_key_and_logs_in(user, authenticator, enroll_key, password_step):
    credential = enroll_key(user, authenticator)
    assert credential["method"] == "webauthn" and credential["label"] == "Key" and credential["is_primary"]
    key = WebAuthnKey.objects.get(credential_id=credential["id"])
    assert key.key_id_b64 == b64url(authenticator.credential_id) and key.transports == ["usb"]
    assert not key.is_passkey
    assert "added" in mail.outbox[-1].subject

    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    assert options["rpId"] == "testserver"
    assert [a["id"] for a in options["allowCredentials"]] == [key.key_id_b64]
    response = c.post_json("api-webauthn-complete", {"credential": authenticator.get(options)})
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "approved", "redirect_url": "/private/"}
    assert c.get("/api/whoami/").json() == {"username": user.get_username()}
    key.refresh_from_db()
    assert key.sign_count == 1
    assert SecurityEvent.objects.filter(user=user, kind="mfa_completed", detail__method="webauthn").exists()


def test_assertion_posted_as_the_body_itself(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    assert c.post_json("api-webauthn-complete", authenticator.get(begin_login(c))).status_code == 200


def test_creation_options(user, logged_in, authenticator, enroll_key):
    c = logged_in(user)
    enroll_key(user, authenticator, c=c)
    options = c.post_json("api-webauthn-register-begin").json()
    assert options["rp"] == {"id": "testserver", "name": options["rp"]["name"]} and options["rp"]["name"]
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"]["residentKey"] == "discouraged"
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(authenticator.credential_id)]
    handle = b64url_decode(options["user"]["id"])
    assert len(handle) == 32 and str(user.pk).encode() != handle  # opaque, not the user's id
    passkey = c.post_json("api-webauthn-register-begin", {"passkey": True}).json()
    assert passkey["authenticatorSelection"]["residentKey"] == "required"
    assert passkey["authenticatorSelection"]["userVerification"] == "required"
    assert c.post_json("api-webauthn-register-begin", {"passkey": "yes"}).json()["code"] == "invalid"


def test_several_keys_per_user(user, logged_in, enroll_key, password_step):
    first, second = SoftwareAuthenticator(), SoftwareAuthenticator()
    account = logged_in(user)
    enroll_key(user, first, c=account)
    enroll_key(user, second, c=account)
    assert MFACredential.objects.active().filter(user=user, method="webauthn").count() == 2
    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    assert len(options["allowCredentials"]) == 2
    assert c.post_json("api-webauthn-complete", {"credential": second.get(options)}).status_code == 200


def test_same_key_cannot_be_registered_twice(user, logged_in, authenticator, enroll_key):
    c = logged_in(user)
    enroll_key(user, authenticator, c=c)
    options = c.post_json("api-webauthn-register-begin").json()
    options["excludeCredentials"] = []  # a browser that ignored excludeCredentials
    response = c.post_json("api-webauthn-register-complete", {"credential": authenticator.create(options)})
    assert response.status_code == 400 and response.json()["code"] == "webauthn_failed"
    assert WebAuthnKey.objects.count() == 1


def test_passkey_requires_user_verification(user, logged_in, password_step):
    c = logged_in(user)
    no_uv = SoftwareAuthenticator(user_verification=False)
    options = c.post_json("api-webauthn-register-begin", {"passkey": True}).json()
    refused = c.post_json("api-webauthn-register-complete", {"credential": no_uv.create(options)})
    assert refused.status_code == 400 and refused.json()["code"] == "webauthn_failed"

    passkey = SoftwareAuthenticator(user_verification=True)
    options = c.post_json("api-webauthn-register-begin", {"passkey": True}).json()
    created = c.post_json("api-webauthn-register-complete", {"credential": passkey.create(options)})
    assert created.status_code == 201 and created.json()["label"] == "Passkey"
    assert WebAuthnKey.objects.get().is_passkey
    c.logout()

    login = JSONClient()
    password_step(login, user)
    options = begin_login(login)
    assert options["userVerification"] == "required"
    without_uv = login.post_json("api-webauthn-complete", {"credential": passkey.get(options, uv=False)})
    assert without_uv.status_code == 400 and without_uv.json()["code"] == "webauthn_failed"
    options = begin_login(login)
    assert login.post_json("api-webauthn-complete", {"credential": passkey.get(options)}).status_code == 200


def test_security_key_without_uv_is_fine(user, enroll_key, password_step):
    key = SoftwareAuthenticator(user_verification=False)
    enroll_key(user, key)
    c = JSONClient()
    password_step(c, user)
    assert c.post_json("api-webauthn-complete", {"credential": key.get(begin_login(c))}).status_code == 200


def test_wrong_origin_is_refused(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    phished = authenticator.get(options, origin="https://testserver.evil.example")
    response = c.post_json("api-webauthn-complete", {"credential": phished})
    assert response.status_code == 400 and response.json()["code"] == "webauthn_failed"
    assert c.get("/api/whoami/").status_code == 403
    assert SecurityEvent.objects.filter(user=user, kind="mfa_failed", detail__method="webauthn").count() == 1


def test_wrong_origin_registration_is_refused(user, logged_in, authenticator):
    c = logged_in(user)
    options = c.post_json("api-webauthn-register-begin").json()
    response = c.post_json(
        "api-webauthn-register-complete", {"credential": authenticator.create(options, origin="https://evil.example")}
    )
    assert response.status_code == 400 and response.json()["code"] == "webauthn_failed"
    assert not WebAuthnKey.objects.exists()


def test_wrong_rp_id_is_refused(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    response = c.post_json("api-webauthn-complete", {"credential": authenticator.get(options, rp_id="evil.example")})
    assert response.json()["code"] == "webauthn_failed"


def test_replayed_assertion_is_refused(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    assertion = authenticator.get(options)
    assert c.post_json("api-webauthn-complete", {"credential": assertion}).status_code == 200

    # the same assertion (same challenge) in a new login, even with a fresh challenge issued
    other = JSONClient()
    password_step(other, user)
    begin_login(other)
    replay = other.post_json("api-webauthn-complete", {"credential": assertion})
    assert replay.status_code == 400 and replay.json()["code"] == "webauthn_failed"


def test_challenge_is_single_use_within_a_session(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    bad = authenticator.get(options, origin="https://evil.example")
    assert c.post_json("api-webauthn-complete", {"credential": bad}).json()["code"] == "webauthn_failed"
    # the challenge was spent by the failed attempt: a valid answer to it no longer works
    late = c.post_json("api-webauthn-complete", {"credential": authenticator.get(options)})
    assert late.json()["code"] == "webauthn_failed"


def test_challenge_used_concurrently_by_one_session_is_refused(user, authenticator, enroll_key, password_step, rf):
    """Two requests of one session may both read the challenge; the cache marker lets one use it."""
    from django_pushmfa.webauthn.internal import auth

    enroll_key(user, authenticator)
    request = rf.post("/")
    request.session = {}
    auth.store_state(request, auth.AUTHENTICATION_SESSION_KEY, user, b"0123456789abcdef0123456789abcdef")
    copy_of_state = dict(request.session)
    auth.pop_state(request, auth.AUTHENTICATION_SESSION_KEY, user)
    request.session = copy_of_state  # the other request's view of the session
    with pytest.raises(auth.WebAuthnFailed):
        auth.pop_state(request, auth.AUTHENTICATION_SESSION_KEY, user)


def test_cloned_key_sign_count_regression_is_refused(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    clone = authenticator.clone()  # same key, same counter
    c = JSONClient()
    password_step(c, user)
    assert c.post_json("api-webauthn-complete", {"credential": authenticator.get(begin_login(c))}).status_code == 200
    authenticator.get({"rpId": "testserver", "challenge": "x"})  # the real key is used elsewhere: count 2
    authenticator.sign_count = 5

    attacker = JSONClient()
    password_step(attacker, user)
    options = begin_login(attacker)
    c2 = attacker.post_json("api-webauthn-complete", {"credential": authenticator.get(options, sign_count=6)})
    assert c2.status_code == 200
    attacker.logout()

    attacker = JSONClient()
    password_step(attacker, user)
    options = begin_login(attacker)
    clone.sign_count = 3  # the clone lags behind the stored count (6)
    response = attacker.post_json("api-webauthn-complete", {"credential": clone.get(options)})
    assert response.status_code == 400 and response.json()["code"] == "webauthn_failed"
    event = SecurityEvent.objects.get(user=user, kind="webauthn_sign_count_regression")
    assert event.detail == {"stored_sign_count": 6, "received_sign_count": 4}
    assert WebAuthnKey.objects.get().sign_count == 6
    # an equal count is a regression too
    options = begin_login(attacker)
    assert (
        attacker.post_json("api-webauthn-complete", {"credential": clone.get(options, sign_count=6)}).status_code
        == 400
    )


def test_authenticators_without_a_counter(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    for _ in range(2):
        c = JSONClient()
        password_step(c, user)
        options = begin_login(c)
        assert (
            c.post_json("api-webauthn-complete", {"credential": authenticator.get(options, sign_count=0)}).status_code
            == 200
        )


def test_forged_signature_is_refused_without_regression_event(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    impostor = SoftwareAuthenticator()
    impostor.credential_id = authenticator.credential_id  # knows the id, not the key
    c = JSONClient()
    password_step(c, user)
    response = c.post_json("api-webauthn-complete", {"credential": impostor.get(begin_login(c), sign_count=0)})
    assert response.json()["code"] == "webauthn_failed"
    assert not SecurityEvent.objects.filter(kind="webauthn_sign_count_regression").exists()


def test_key_of_another_user_is_refused(user, user_factory, enroll_key, password_step):
    other = user_factory("mallory")
    mine, theirs = SoftwareAuthenticator(), SoftwareAuthenticator()
    enroll_key(user, mine)
    enroll_key(other, theirs)
    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    options["allowCredentials"] = []
    assert (
        c.post_json("api-webauthn-complete", {"credential": theirs.get(options)}).json()["code"] == "webauthn_failed"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"credential": {}},
        {"credential": {"id": "x", "rawId": "!!", "type": "public-key", "response": {}}},
        {"credential": "string"},
        {"credential": {"id": 1}},
        [1],
    ],
)
def test_malformed_assertions_are_invalid(user, authenticator, enroll_key, password_step, body):
    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    begin_login(c)
    response = c.post_json("api-webauthn-complete", body)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_garbage_inside_a_well_formed_assertion_is_webauthn_failed(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    assertion = authenticator.get(begin_login(c))
    assertion["response"]["authenticatorData"] = b64url(b"\x00" * 10)
    assertion["response"]["clientDataJSON"] = b64url(b"{not json")
    response = c.post_json("api-webauthn-complete", {"credential": assertion})
    assert response.status_code == 400 and response.json()["code"] == "webauthn_failed"


def test_complete_without_begin(user, authenticator, enroll_key, password_step):
    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    options = {"rpId": "testserver", "challenge": b64url(b"c" * 32)}
    assert (
        c.post_json("api-webauthn-complete", {"credential": authenticator.get(options)}).json()["code"]
        == "webauthn_failed"
    )


def test_begin_without_keys(user, enroll_totp, password_step):
    enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    response = c.post_json("api-webauthn-begin")
    assert response.status_code == 400 and response.json()["code"] == "webauthn_failed"


def test_revoked_key_is_not_offered_nor_accepted(
    user, logged_in, authenticator, enroll_key, enroll_totp, password_step
):
    from django_pushmfa import services

    account = logged_in(user)
    enroll_totp(user, account)
    credential = enroll_key(user, authenticator, c=account)
    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    services.revoke_credential(MFACredential.objects.get(pk=credential["id"]), actor=user, reason="lost")
    assert (
        c.post_json("api-webauthn-complete", {"credential": authenticator.get(options)}).json()["code"]
        == "webauthn_failed"
    )
    assert c.post_json("api-webauthn-begin").json()["code"] == "webauthn_failed"


def test_browser_endpoints_need_a_pending_login(client):
    assert client.post_json("api-webauthn-begin").json()["code"] == "mfa_not_in_progress"
    assert client.post_json("api-webauthn-register-begin").status_code == 403


def test_keys_keep_working_while_the_cache_is_down(user, authenticator, enroll_key, password_step):
    from unittest import mock

    from django_pushmfa.webauthn.internal import auth

    class DownCache:
        def add(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    enroll_key(user, authenticator)
    c = JSONClient()
    password_step(c, user)
    options = begin_login(c)
    with mock.patch.object(auth, "caches", {"default": DownCache()}):
        assertion = authenticator.get(options)
        assert c.post_json("api-webauthn-complete", {"credential": assertion}).status_code == 200
