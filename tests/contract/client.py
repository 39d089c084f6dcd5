"""An independent HTTP client for the django-pushmfa wire contract, written from
``/work/shared/api-contract.md`` alone (no code of the app is imported here).

Two clients, as a new user would write them:

- :class:`Browser` — a browser front end: one cookie jar (session + CSRF cookie), logs in through the
  host site's own login view, sends ``X-CSRFToken`` on unsafe requests, and keeps every response it got
  so a test can scan the raw bodies.
- :class:`Phone` — the phone app: its own P-256 or Ed25519 key, registers with a pairing token, signs
  every device request per the contract's "Signed requests" section (the signing code is here, with
  ``cryptography``, so the server's verification is checked against an independent implementation).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

#: Where the host site mounts the app (``path("mfa/", include("django_pushmfa.urls"))``).
MOUNT = "/mfa/"
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
SIGNATURE_SCHEME = "PushMFA-Signature"


def app_path(relative: str) -> str:
    """The absolute path of a contract path such as ``api/methods/``."""
    return MOUNT + relative.lstrip("/")


class Browser:
    """A browser: cookies, CSRF, and a record of every response (for raw-body scans)."""

    def __init__(self, base_url: str, user_agent: str = CHROME_UA) -> None:
        self.http = httpx.Client(
            base_url=base_url, follow_redirects=False, timeout=90, headers={"User-Agent": user_agent}
        )
        self.responses: list[httpx.Response] = []

    def close(self) -> None:
        self.http.close()

    def _record(self, response: httpx.Response) -> httpx.Response:
        self.responses.append(response)
        return response

    @property
    def csrf_token(self) -> str | None:
        return self.http.cookies.get("csrftoken")

    def page(self, path: str, **params: str) -> httpx.Response:
        """A page request: a GET that accepts text/html."""
        return self._record(self.http.get(path, params=params or None, headers={"Accept": HTML_ACCEPT}))

    def login(self, username: str, password: str, path: str = "/accounts/login/", next_url: str | None = None):
        """Log in through the site's LoginView the way a browser does (GET for the CSRF cookie, POST the form)."""
        first = self.page(path)
        assert first.status_code == 200, first.text
        assert self.csrf_token, "the login page set no csrftoken cookie"
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.csrf_token}
        if next_url:
            form["next"] = next_url
        return self._record(self.http.post(path, data=form, headers={"Accept": HTML_ACCEPT}))

    def logout(self) -> httpx.Response:
        return self._record(
            self.http.post(
                "/accounts/logout/",
                data={"csrfmiddlewaretoken": self.csrf_token or ""},
                headers={"Accept": HTML_ACCEPT},
            )
        )

    def api(
        self,
        method: str,
        relative: str,
        json_body: Any = None,
        *,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        csrf: bool = True,
    ) -> httpx.Response:
        """A JSON call to the app (``relative`` as in the contract, e.g. ``api/push/``)."""
        headers = {"Accept": "application/json"}
        if method.upper() not in ("GET", "HEAD", "OPTIONS") and csrf and self.csrf_token:
            headers["X-CSRFToken"] = self.csrf_token
        if content is None and json_body is not None:
            content = json.dumps(json_body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        path = relative if relative.startswith("/") else app_path(relative)
        return self._record(self.http.request(method, path, content=content, params=params, headers=headers))


# --- the phone ------------------------------------------------------------------------------------


def canonical_string(method: str, path: str, ts: str, nonce: str, body: bytes) -> bytes:
    """The bytes a device signs, exactly as the contract lists them."""
    lines = ["PUSHMFA-V1", method.upper(), path, ts, nonce, hashlib.sha256(body).hexdigest()]
    return "\n".join(lines).encode("utf-8")


@dataclass
class PhoneKey:
    """A device key pair: ``p256`` (DER ECDSA/SHA-256 signatures) or ``ed25519``."""

    key_type: str
    private: Any

    @classmethod
    def generate(cls, key_type: str = "p256") -> PhoneKey:
        if key_type == "p256":
            return cls(key_type, ec.generate_private_key(ec.SECP256R1()))
        if key_type == "ed25519":
            return cls(key_type, ed25519.Ed25519PrivateKey.generate())
        raise ValueError(key_type)

    def public_key_b64(self) -> str:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, message: bytes) -> bytes:
        if self.key_type == "p256":
            return self.private.sign(message, ec.ECDSA(hashes.SHA256()))
        return self.private.sign(message)

    def sign_raw_rs(self, message: bytes) -> bytes:
        """A P-256 signature in the IEEE P1363 ``r || s`` form (not what the contract asks for)."""
        r, s = decode_dss_signature(self.sign(message))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def authorization_header(device_id: str, ts: str, nonce: str, sig_b64: str) -> str:
    return f'{SIGNATURE_SCHEME} device="{device_id}", ts="{ts}", nonce="{nonce}", sig="{sig_b64}"'


@dataclass
class Phone:
    """The phone app. ``register()`` first; then every call is signed unless told otherwise."""

    base_url: str
    key: PhoneKey = field(default_factory=PhoneKey.generate)
    device_id: str | None = None
    push_token: str = field(default_factory=lambda: "push-" + secrets.token_urlsafe(24))
    name: str = "Pixel 8"
    platform: str = "fcm"

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=90)

    def close(self) -> None:
        self.http.close()

    def register(self, pairing_token: str, **overrides: Any) -> httpx.Response:
        body = {
            "pairing_token": pairing_token,
            "platform": self.platform,
            "push_token": self.push_token,
            "public_key": self.key.public_key_b64(),
            "name": self.name,
            **overrides,
        }
        response = self.http.post(
            app_path("api/device/register/"), content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        if response.status_code == 201:
            self.device_id = response.json()["device_id"]
        return response

    def signed(
        self,
        method: str,
        relative: str,
        json_body: Any = None,
        *,
        content: bytes | None = None,
        query: str = "",
        ts: int | str | None = None,
        nonce: str | None = None,
        sign_method: str | None = None,
        sign_path: str | None = None,
        sign_body: bytes | None = None,
        sign_ts: str | None = None,
        signature: bytes | None = None,
        sig_encoder=None,
        key: PhoneKey | None = None,
        device_id: str | None = None,
        authorization: str | None = None,
        omit_authorization: bool = False,
    ) -> httpx.Response:
        """A signed device call. The keyword arguments tamper with one part at a time for the tests."""
        path = app_path(relative)
        if query:
            path = f"{path}?{query}"
        if content is None:
            content = b"" if json_body is None else json.dumps(json_body).encode()
        ts_value = str(int(time.time()) if ts is None else ts)
        nonce_value = nonce if nonce is not None else secrets.token_urlsafe(18)
        message = canonical_string(
            sign_method or method,
            sign_path if sign_path is not None else path,
            sign_ts if sign_ts is not None else ts_value,
            nonce_value,
            sign_body if sign_body is not None else content,
        )
        raw_sig = signature if signature is not None else (key or self.key).sign(message)
        sig_b64 = (sig_encoder or base64.b64encode)(raw_sig)
        sig_b64 = sig_b64.decode() if isinstance(sig_b64, bytes) else sig_b64
        headers = {"Accept": "application/json"}
        if content:
            headers["Content-Type"] = "application/json"
        if not omit_authorization:
            headers["Authorization"] = authorization or authorization_header(
                device_id or self.device_id or "", ts_value, nonce_value, sig_b64
            )
        request = self.http.build_request(method, path, content=content or None, headers=headers)
        # The signed path must be the one in the request line, byte for byte.
        assert request.url.raw_path.decode() == path, (request.url.raw_path, path)
        return self.http.send(request)

    # conveniences for the common calls
    def challenges(self) -> httpx.Response:
        return self.signed("GET", "api/device/challenges/")

    def challenge(self, challenge_id: str) -> httpx.Response:
        return self.signed("GET", f"api/device/challenges/{challenge_id}/")

    def respond(self, challenge_id: str, decision: str, selected_number: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"decision": decision}
        if selected_number is not None:
            body["selected_number"] = selected_number
        return self.signed("POST", f"api/device/challenges/{challenge_id}/respond/", body)
