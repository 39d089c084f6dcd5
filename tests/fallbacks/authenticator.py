"""A software WebAuthn authenticator for the tests: a P-256 key, hand-built authenticatorData,
clientDataJSON, a "none" attestation object and ECDSA assertion signatures.

It answers the JSON options the server sends (``options_to_json_dict`` form) with the JSON a browser
posts (``PublicKeyCredential.toJSON()`` form), so the tests drive the real endpoints end to end.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import struct
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


# --- a minimal CBOR encoder (RFC 8949): unsigned/negative ints, byte/text strings, maps ------------
def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    if value < 0x100:
        return bytes([major << 5 | 24, value])
    if value < 0x10000:
        return bytes([major << 5 | 25]) + struct.pack(">H", value)
    if value < 0x100000000:
        return bytes([major << 5 | 26]) + struct.pack(">I", value)
    return bytes([major << 5 | 27]) + struct.pack(">Q", value)


def cbor(value: Any) -> bytes:
    if isinstance(value, bool):
        return bytes([0xF5 if value else 0xF4])
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return _head(3, len(raw)) + raw
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(f"cannot CBOR-encode {type(value)!r}")


class SoftwareAuthenticator:
    """One credential on a software authenticator. ``sign_count`` increases with each assertion."""

    def __init__(self, *, origin: str = "http://testserver", user_verification: bool = True) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.aaguid = bytes(16)
        self.sign_count = 0
        self.origin = origin
        self.user_verification = user_verification
        self.rp_id: str | None = None

    def clone(self) -> SoftwareAuthenticator:
        """A copy sharing key, id and counter: what an attacker who cloned the key would hold."""
        other = copy.copy(self)
        return other

    # --- pieces -----------------------------------------------------------------------------------
    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def authenticator_data(self, rp_id: str, *, attested: bool, uv: bool, sign_count: int) -> bytes:
        flags = FLAG_UP | (FLAG_UV if uv else 0) | (FLAG_AT if attested else 0)
        data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
        if attested:
            data += self.aaguid + struct.pack(">H", len(self.credential_id)) + self.credential_id
            data += self.cose_public_key()
        return data

    def client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    # --- ceremonies --------------------------------------------------------------------------------
    def create(self, options: dict[str, Any], *, origin: str | None = None, uv: bool | None = None) -> dict[str, Any]:
        """Answer creation options like ``navigator.credentials.create()``; returns the credential JSON."""
        excluded = {c["id"] for c in options.get("excludeCredentials", [])}
        if b64url(self.credential_id) in excluded:
            raise ValueError("InvalidStateError: this authenticator is already registered")
        self.rp_id = options["rp"]["id"]
        uv = self.user_verification if uv is None else uv
        auth_data = self.authenticator_data(self.rp_id, attested=True, uv=uv, sign_count=self.sign_count)
        attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(self.client_data("webauthn.create", options["challenge"], origin)),
                "attestationObject": b64url(attestation),
                "transports": ["usb"],
            },
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        uv: bool | None = None,
        sign_count: int | None = None,
        rp_id: str | None = None,
    ) -> dict[str, Any]:
        """Answer request options like ``navigator.credentials.get()``; returns the assertion JSON."""
        allowed = {c["id"] for c in options.get("allowCredentials", [])}
        if allowed and b64url(self.credential_id) not in allowed:
            raise ValueError("NotAllowedError: no matching credential")
        if sign_count is None:
            self.sign_count += 1
            sign_count = self.sign_count
        uv = self.user_verification if uv is None else uv
        auth_data = self.authenticator_data(rp_id or options["rpId"], attested=False, uv=uv, sign_count=sign_count)
        client_data = self.client_data("webauthn.get", options["challenge"], origin)
        signature = self.private_key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": None,
            },
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
        }
