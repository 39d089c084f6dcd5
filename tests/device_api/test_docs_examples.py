"""The worked examples of docs/device-api.md, byte for byte, and accepted by the server."""

from __future__ import annotations

import base64
import types
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from django_pushmfa.api import authentication
from django_pushmfa.internal.signing import canonical_message as server_canonical_message
from django_pushmfa.internal.signing import verify_signature
from django_pushmfa.testing.phone import (
    DjangoClientTransport,
    PhoneClient,
    PhoneKey,
    canonical_message,
    signature_header,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "device-api.md").read_text()
DEVICE = "6f1c1f2e-8a4b-4c1d-9d7e-0a1b2c3d4e5f"
TS = 1767225600
ED_PATH = "/mfa/api/device/challenges/0b6f1d9e-3c2a-4e8b-9f1a-2d3c4b5a6e7f/respond/"
ED_BODY = b'{"decision":"approve","selected_number":"47"}'
ED_NONCE = "q8Jf3Zs0b1XyW2vT5nR7pA"
P256_NONCE = "Zm9vYmFyYmF6cXV4MTIzNA"
P256_SIG = "MEUCIQDVFr18+aQtBhrdiwxbcGccxFfLqipuv+mbLwULbP23cwIgcvY0SU+XO6+lxl6Wo0unJlEVrbnTog2lIpy22RuhTLQ="


def ed_key():
    return PhoneKey(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def p256_key():
    scalar = 0x0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
    return PhoneKey(ec.derive_private_key(scalar, ec.SECP256R1()))


def test_ed25519_example_bytes_are_in_the_docs():
    key = ed_key()
    message = canonical_message("POST", ED_PATH, str(TS), ED_NONCE, ED_BODY)
    assert message == server_canonical_message("POST", ED_PATH, str(TS), ED_NONCE, ED_BODY)
    header = signature_header(key, DEVICE, "POST", ED_PATH, ED_BODY, ts=TS, nonce=ED_NONCE)
    assert key.public_key_b64() in DOC
    assert repr(message) in DOC
    assert header in DOC


def test_p256_example_verifies():
    key = p256_key()
    path = "/mfa/api/device/challenges/"
    message = canonical_message("GET", path, str(TS), P256_NONCE, b"")
    assert key.public_key_b64() in DOC and repr(message) in DOC and P256_SIG in DOC
    assert verify_signature("p256", key.public_key_der(), base64.b64decode(P256_SIG), message)
    assert not verify_signature("p256", key.public_key_der(), base64.b64decode(P256_SIG), message + b"x")


@pytest.mark.django_db
def test_server_accepts_the_documented_request(user, issue_token, monkeypatch):
    phone = PhoneClient(DjangoClientTransport(), ed_key())
    device_id = phone.register(issue_token(user), "fcm", "tok", "Doc phone")
    # The device id is not part of the signed bytes: the documented signature works for our device.
    header = signature_header(ed_key(), DEVICE, "POST", ED_PATH, ED_BODY, ts=TS, nonce=ED_NONCE)
    header = header.replace(DEVICE, device_id)
    monkeypatch.setattr(authentication, "time", types.SimpleNamespace(time=lambda: TS + 1.0))
    # The nonce store has been up since before the documented request was signed.
    from django.core.cache import caches

    caches["default"].set(authentication.NONCE_EPOCH_KEY, TS - 3600, None)
    headers = {"Authorization": header, "Content-Type": "application/json"}
    response = phone.transport.request("POST", ED_PATH, ED_BODY, headers)
    # Authenticated (not 401): the challenge of the example just does not exist here.
    assert (response.status, response.json()["code"]) == (404, "not_found")
    again = phone.transport.request("POST", ED_PATH, ED_BODY, headers)
    assert (again.status, again.json()["code"]) == (401, "invalid_signature")  # the nonce is spent
