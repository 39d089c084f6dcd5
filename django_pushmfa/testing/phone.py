"""The reference phone client: the executable version of the device API (docs/device-api.md).

Mobile teams can read this module as the specification of what a phone app sends. It depends only
on the standard library and ``cryptography`` and does not import the server's code, so it checks
the server against the contract rather than against itself. The tests, the example project's phone
simulator and the benchmarks all drive the server through it.

Quick start::

    key = PhoneKey.generate("p256")                    # keep key.to_pem() in the phone's key store
    phone = PhoneClient("https://example.com/mfa/api/", key)   # the pairing URI's ``server``
    phone.register(pairing_token, platform="fcm", push_token="...", name="Pixel 8")
    for challenge in phone.challenges():               # or after a push: phone.challenge(id)
        phone.respond(challenge["challenge_id"], "approve", selected_number="47")

In Django tests use a test ``Client`` as the transport: ``PhoneClient(DjangoClientTransport(), key)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

__all__ = [
    "DjangoClientTransport",
    "HTTPTransport",
    "PhoneAPIError",
    "PhoneClient",
    "PhoneKey",
    "PhoneResponse",
    "canonical_message",
    "parse_pairing_uri",
    "signature_header",
]

SIGNATURE_VERSION = "PUSHMFA-V1"
SCHEME = "PushMFA-Signature"


# --- keys --------------------------------------------------------------------------------------
class PhoneKey:
    """The phone's signing key: ECDSA P-256 (Secure Enclave / Android Keystore) or Ed25519."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> None:
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(private_key.curve, ec.SECP256R1):
                raise ValueError("Only the P-256 curve is supported.")
            self.key_type = "p256"
        elif isinstance(private_key, ed25519.Ed25519PrivateKey):
            self.key_type = "ed25519"
        else:
            raise ValueError("Only ECDSA P-256 and Ed25519 keys are supported.")
        self._private_key = private_key

    @classmethod
    def generate(cls, key_type: str = "p256") -> PhoneKey:
        """A new random key; ``key_type`` is ``"p256"`` or ``"ed25519"``."""
        if key_type == "p256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        if key_type == "ed25519":
            return cls(ed25519.Ed25519PrivateKey.generate())
        raise ValueError(f"Unknown key type {key_type!r}; use 'p256' or 'ed25519'.")

    def public_key_der(self) -> bytes:
        """The public key as DER SubjectPublicKeyInfo (what registration sends, base64-encoded)."""
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_key_b64(self) -> str:
        """Standard base64 (with padding) of :meth:`public_key_der`."""
        return base64.b64encode(self.public_key_der()).decode("ascii")

    def sign(self, message: bytes) -> bytes:
        """P-256: DER-encoded ECDSA over SHA-256 of ``message``; Ed25519: the 64-byte signature."""
        key = self._private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(hashes.SHA256()))
        return key.sign(message)

    def to_pem(self) -> str:
        """The private key as unencrypted PKCS#8 PEM, for a simulator that must keep it. Secret!"""
        return self._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")

    @classmethod
    def from_pem(cls, pem: str | bytes) -> PhoneKey:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        return cls(serialization.load_pem_private_key(data, password=None))  # type: ignore[arg-type]

    def __repr__(self) -> str:  # never the key material
        return f"<PhoneKey {self.key_type}>"


# --- the signature rules -----------------------------------------------------------------------
def canonical_message(method: str, path: str, ts: str, nonce: str, body: bytes) -> bytes:
    """What is signed: these six lines joined by ``\\n`` (no trailing newline), as UTF-8 bytes.

    1. ``PUSHMFA-V1``
    2. the HTTP method, upper case (``GET``)
    3. the request path exactly as in the request line, with ``?query`` if any
       (``/mfa/api/device/challenges/``)
    4. ``ts``: unix seconds as decimal digits
    5. the nonce
    6. lower-case hex SHA-256 of the request body bytes (of ``b""`` when there is no body)
    """
    lines = [SIGNATURE_VERSION, method.upper(), path, ts, nonce, hashlib.sha256(body).hexdigest()]
    return "\n".join(lines).encode("utf-8")


def new_nonce() -> str:
    """A fresh random nonce: 32 URL-safe characters (the server takes 16..128 of ``A-Za-z0-9._~+/=-``)."""
    return secrets.token_urlsafe(24)


def signature_header(
    key: PhoneKey,
    device_id: str,
    method: str,
    path: str,
    body: bytes = b"",
    ts: int | str | None = None,
    nonce: str | None = None,
) -> str:
    """The ``Authorization`` header value for one request. Use a new nonce and the current time."""
    ts_text = str(int(time.time()) if ts is None else ts)
    nonce = nonce or new_nonce()
    sig = base64.b64encode(key.sign(canonical_message(method, path, ts_text, nonce, body))).decode("ascii")
    return f'{SCHEME} device="{device_id}", ts="{ts_text}", nonce="{nonce}", sig="{sig}"'


def parse_pairing_uri(uri: str) -> tuple[str, str]:
    """``pushmfa://pair?token=...&server=...&v=1`` → ``(pairing_token, server)``; ``server`` is the API base URL."""
    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    if parts.netloc != "pair" or query.get("v") != ["1"] or "token" not in query or "server" not in query:
        raise ValueError("Not a version 1 pairing URI.")
    return query["token"][0], query["server"][0]


# --- transports --------------------------------------------------------------------------------
@dataclass
class PhoneResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Transport(Protocol):
    base_path: str  # path of the API root on the server, e.g. "/mfa/api/"

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> PhoneResponse: ...


class HTTPTransport:
    """Talks to a live server. ``base_url`` is the API root, e.g. ``https://example.com/mfa/api/``."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path or "/"
        self.timeout = timeout

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> PhoneResponse:
        req = urllib.request.Request(self.origin + path, data=body or None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return PhoneResponse(resp.status, resp.read(), {k.lower(): v for k, v in resp.headers.items()})
        except urllib.error.HTTPError as exc:
            return PhoneResponse(exc.code, exc.read(), {k.lower(): v for k, v in exc.headers.items()})


class DjangoClientTransport:
    """Drives a Django test ``Client`` (no server needed). ``base_path`` defaults to the mounted API root."""

    def __init__(self, client: Any = None, base_path: str | None = None) -> None:
        if client is None:
            from django.test import Client

            client = Client()
        if base_path is None:
            from django.urls import reverse

            base_path = reverse("pushmfa:api-device-register")[: -len("device/register/")]
        self.client = client
        self.base_path = base_path

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> PhoneResponse:
        headers = dict(headers)
        content_type = headers.pop("Content-Type", "application/octet-stream")
        response = self.client.generic(method, path, data=body, content_type=content_type, headers=headers)
        return PhoneResponse(
            response.status_code, response.content, {k.lower(): v for k, v in response.headers.items()}
        )


# --- the client --------------------------------------------------------------------------------
class PhoneAPIError(Exception):
    """A non-2xx answer. ``code`` is the contract's machine code (``wrong_number``...)."""

    def __init__(self, response: PhoneResponse) -> None:
        self.response = response
        self.status = response.status
        try:
            data = response.json() or {}
        except ValueError:
            data = {}
        self.code = data.get("code") if isinstance(data, dict) else None
        self.detail = data.get("detail") if isinstance(data, dict) else None
        super().__init__(f"{self.status} {self.code}: {self.detail}")


class PhoneClient:
    """A paired (or about to be paired) phone.

    ``base_url_or_transport``: the API root URL (the pairing URI's ``server``) for a live server, or
    a transport object such as :class:`DjangoClientTransport`. Methods return the decoded JSON of a
    2xx answer and raise :class:`PhoneAPIError` otherwise.
    """

    def __init__(self, base_url_or_transport: str | Transport, key: PhoneKey, device_id: str | None = None) -> None:
        if isinstance(base_url_or_transport, str):
            self.transport: Transport = HTTPTransport(base_url_or_transport)
        else:
            self.transport = base_url_or_transport
        self.key = key
        self.device_id = device_id

    # --- low level -----------------------------------------------------------------------------
    def path(self, endpoint: str) -> str:
        """Absolute request path of an API endpoint, e.g. ``path("device/")`` → ``/mfa/api/device/``."""
        return self.transport.base_path + endpoint.lstrip("/")

    def signature_header(
        self, method: str, path: str, body: bytes = b"", ts: int | str | None = None, nonce: str | None = None
    ) -> str:
        if not self.device_id:
            raise RuntimeError("Register the phone (or pass device_id) before signing requests.")
        return signature_header(self.key, self.device_id, method, path, body, ts=ts, nonce=nonce)

    def request(
        self,
        method: str,
        endpoint: str,
        payload: Any = None,
        *,
        sign: bool = True,
        headers: dict[str, str] | None = None,
    ) -> PhoneResponse:
        """Send one request (signed unless ``sign=False``) and return the raw response."""
        path = self.path(endpoint)
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode("utf-8")
        all_headers = {"Accept": "application/json"}
        if body:
            all_headers["Content-Type"] = "application/json"
        if sign:
            all_headers["Authorization"] = self.signature_header(method, path, body)
        all_headers.update(headers or {})
        return self.transport.request(method.upper(), path, body, all_headers)

    def _call(self, method: str, endpoint: str, payload: Any = None, *, sign: bool = True) -> Any:
        response = self.request(method, endpoint, payload, sign=sign)
        if not 200 <= response.status < 300:
            raise PhoneAPIError(response)
        return response.json()

    # --- the endpoints -------------------------------------------------------------------------
    def register(self, pairing_token: str, platform: str, push_token: str | None = None, name: str = "") -> str:
        """``POST device/register/`` (unsigned). Stores and returns the new ``device_id``.

        ``platform``: ``fcm``, ``apns``, ``unifiedpush`` (``push_token`` is the distributor's endpoint
        URL) or ``none`` (no ``push_token``: the app polls ``challenges()``)."""
        payload = {
            "pairing_token": pairing_token,
            "platform": platform,
            "public_key": self.key.public_key_b64(),
            "name": name,
        }
        if push_token is not None:
            payload["push_token"] = push_token
        data = self._call("POST", "device/register/", payload, sign=False)
        self.device_id = data["device_id"]
        return self.device_id

    def challenges(self) -> list[dict[str, Any]]:
        """``GET device/challenges/``: the pending challenges (for when a push did not arrive)."""
        return self._call("GET", "device/challenges/")["challenges"]

    def challenge(self, challenge_id: str) -> dict[str, Any]:
        """``GET device/challenges/<id>/``: choices and login context, fetched after a push."""
        return self._call("GET", f"device/challenges/{challenge_id}/")

    def respond(self, challenge_id: str, decision: str, selected_number: str | None = None) -> dict[str, Any]:
        """``POST device/challenges/<id>/respond/``; ``decision`` is approve, deny or report."""
        payload: dict[str, Any] = {"decision": decision}
        if selected_number is not None:
            payload["selected_number"] = selected_number
        return self._call("POST", f"device/challenges/{challenge_id}/respond/", payload)

    def rotate_push_token(self, push_token: str) -> dict[str, Any]:
        """``PUT device/push-token/``: the provider issued a new push token."""
        return self._call("PUT", "device/push-token/", {"push_token": push_token})

    def unregister(self) -> None:
        """``DELETE device/``: the app removes itself; its key stops working at once."""
        self._call("DELETE", "device/")
