"""The reference client over real HTTP against a live server (what a phone actually does)."""
from __future__ import annotations

import pytest
from django.test import Client

from django_pushmfa.internal.pairing import create_pairing_token
from django_pushmfa.testing.phone import PhoneAPIError, PhoneClient, PhoneKey, parse_pairing_uri


@pytest.mark.django_db(transaction=True)
def test_pair_poll_and_answer_over_http(live_server, user, password, settings):
    settings.PUSHMFA_PAIRING_SERVER_URL = live_server.url + "/mfa/api/"
    token, server = parse_pairing_uri(create_pairing_token(user).pairing_uri)
    key = PhoneKey.generate("p256")
    phone = PhoneClient(server, key)
    device_id = phone.register(token, platform="apns", push_token="ab" * 32, name="iPhone")

    browser = Client()
    browser.post("/accounts/login/", {"username": user.username, "password": password})
    started = browser.post("/mfa/api/push/", {}, content_type="application/json").json()

    # A phone restarted from its stored key and id.
    phone = PhoneClient(server, PhoneKey.from_pem(key.to_pem()), device_id=device_id)
    [challenge] = phone.challenges()
    assert challenge["challenge_id"] == started["challenge_id"]
    assert phone.respond(challenge["challenge_id"], "approve", started["display_number"]) == {"status": "approved"}
    with pytest.raises(PhoneAPIError) as err:
        phone.respond(challenge["challenge_id"], "deny")
    assert (err.value.status, err.value.code) == (409, "challenge_resolved")
    assert phone.rotate_push_token("cd" * 32) == {"device_id": device_id}
    phone.unregister()
    with pytest.raises(PhoneAPIError) as err:
        phone.challenges()
    assert (err.value.status, err.value.code) == (401, "invalid_signature")
    assert err.value.response.headers["www-authenticate"] == "PushMFA-Signature"


def test_key_pem_round_trip():
    for key_type in ("p256", "ed25519"):
        key = PhoneKey.generate(key_type)
        again = PhoneKey.from_pem(key.to_pem())
        assert again.key_type == key_type and again.public_key_der() == key.public_key_der()
        assert "PRIVATE" not in repr(key)
    with pytest.raises(ValueError):
        PhoneKey.generate("rsa")


def test_parse_pairing_uri_rejects_other_versions():
    with pytest.raises(ValueError):
        parse_pairing_uri("pushmfa://pair?token=a&server=https://x/&v=2")
    with pytest.raises(ValueError):
        parse_pairing_uri("pushmfa://other?token=a&server=https://x/&v=1")
