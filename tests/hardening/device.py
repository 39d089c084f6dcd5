"""A minimal phone written from the contract alone, for attacks that need full control of each field.

The reference client (``django_pushmfa.testing.phone``) is the friendly one; this one lets a test sign
with a chosen timestamp, nonce, path, body or device id, and send whatever header it likes.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.test import Client

API = "/mfa/api/"


def canonical(method: str, path: str, ts: str, nonce: str, body: bytes) -> bytes:
    return "\n".join(["PUSHMFA-V1", method.upper(), path, ts, nonce, hashlib.sha256(body).hexdigest()]).encode()


class Phone:
    """One paired (or about to be paired) phone with its own key pair, talking through a test client."""

    def __init__(self, key_type: str = "p256", client: Client | None = None) -> None:
        self.key_type = key_type
        if key_type == "p256":
            self.key = ec.generate_private_key(ec.SECP256R1())
        else:
            self.key = ed25519.Ed25519PrivateKey.generate()
        self.client = client or Client()
        self.device_id: str | None = None

    # --- registration ------------------------------------------------------------------------
    @property
    def public_key_b64(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def register(
        self, pairing_token: str, *, platform: str = "fcm", name: str = "Pixel 8", push_token: str | None = None
    ):
        body = {
            "pairing_token": pairing_token,
            "platform": platform,
            "push_token": push_token or "tok-" + secrets.token_hex(16),
            "public_key": self.public_key_b64,
            "name": name,
        }
        response = self.client.post(API + "device/register/", json.dumps(body), content_type="application/json")
        if response.status_code == 201:
            self.device_id = response.json()["device_id"]
        return response

    # --- signing -----------------------------------------------------------------------------
    def sign_bytes(self, message: bytes) -> str:
        if self.key_type == "p256":
            return base64.b64encode(self.key.sign(message, ec.ECDSA(hashes.SHA256()))).decode()
        return base64.b64encode(self.key.sign(message)).decode()

    def header(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        ts: int | str | None = None,
        nonce: str | None = None,
        device_id: str | None = None,
        sign_path: str | None = None,
        sign_body: bytes | None = None,
        sign_method: str | None = None,
    ) -> str:
        ts = str(int(time.time()) if ts is None else ts)
        nonce = nonce or secrets.token_urlsafe(18)
        message = canonical(
            sign_method or method,
            path if sign_path is None else sign_path,
            ts,
            nonce,
            body if sign_body is None else sign_body,
        )
        return (
            f'PushMFA-Signature device="{device_id or self.device_id}", ts="{ts}", '
            f'nonce="{nonce}", sig="{self.sign_bytes(message)}"'
        )

    def send(self, method: str, path: str, data: Any = None, *, authorization: str | None = None, **sign: Any):
        """Send a signed request (``authorization`` replaces the computed header as given)."""
        body = b"" if data is None else (data if isinstance(data, bytes) else json.dumps(data).encode())
        header = authorization if authorization is not None else self.header(method, path, body, **sign)
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        return self.client.generic(method, path, body, content_type="application/json", **extra)

    # --- contract shortcuts ------------------------------------------------------------------
    def challenges(self):
        return self.send("GET", API + "device/challenges/")

    def challenge(self, challenge_id: str):
        return self.send("GET", f"{API}device/challenges/{challenge_id}/")

    def respond(self, challenge_id: str, decision: str, selected_number: str | None = None, **sign: Any):
        body: dict[str, Any] = {"decision": decision}
        if selected_number is not None:
            body["selected_number"] = selected_number
        return self.send("POST", f"{API}device/challenges/{challenge_id}/respond/", body, **sign)

    def approve(self, challenge_id: str, number: str):
        return self.respond(challenge_id, "approve", number)
