"""The three authentications the schema fuzzer needs, set up for real against a live server.

- browser: a session that did the password step of a user with a paired phone (MFA pending), + CSRF;
- account: a session of the same user logged in for real (before the phone was paired), + CSRF;
- device: the paired phone; every request is signed by :class:`DeviceSigner`, a ``requests`` auth
  hook that signs the final bytes (method, path with query, body) with the reference phone client's
  ``signature_header`` just before they are sent.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import requests

from django_pushmfa.testing.phone import HTTPTransport, PhoneClient, PhoneKey

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class DeviceSigner(requests.auth.AuthBase):
    """Signs each prepared request with the phone's key (new ts and nonce every time)."""

    def __init__(self, phone: PhoneClient) -> None:
        self.phone = phone

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        if "Authorization" not in prepared.headers:
            # schemathesis left the security header out on purpose (a negative case): keep it out
            return prepared
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif not isinstance(body, bytes):  # a generator / file: not something this API takes
            body = b""
        prepared.headers["Authorization"] = self.phone.signature_header(prepared.method, prepared.path_url, body)
        return prepared


@dataclass
class Session:
    cookies: dict[str, str]
    csrf: str

    @property
    def kwargs(self) -> dict:
        return {"cookies": dict(self.cookies), "headers": {"X-CSRFToken": self.csrf}}


def password_step(base_url: str, username: str, password: str) -> Session:
    """Log in through the site's LoginView over HTTP; returns the session's cookies and CSRF token."""
    http = requests.Session()
    page = http.get(f"{base_url}/accounts/login/", timeout=10)
    token = CSRF_INPUT.search(page.text).group(1)
    response = http.post(
        f"{base_url}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:300]
    cookies = http.cookies.get_dict()
    return Session(cookies=cookies, csrf=cookies["csrftoken"])


def app_login(base_url: str, username: str, password: str) -> str:
    """An app client's password step (``api/app/login/``); returns its ``X-Session-Token``."""
    response = requests.post(
        f"{base_url}/mfa/api/app/login/", json={"username": username, "password": password}, timeout=10
    )
    assert response.status_code == 200, response.text[:300]
    return response.json()["session_token"]


@dataclass
class FuzzWorld:
    base_url: str
    browser: Session
    account: Session
    phone: PhoneClient
    app_browser: str  # X-Session-Token of an app client mid-login
    app_account: str  # X-Session-Token of a fully logged-in app client

    @classmethod
    def build(cls, base_url: str, username: str, password: str) -> FuzzWorld:
        account = password_step(base_url, username, password)  # no MFA yet: logged in for real
        app_account = app_login(base_url, username, password)
        pairing = requests.post(
            f"{base_url}/mfa/api/devices/pairing/", json={}, timeout=10, **account.kwargs
        )
        assert pairing.status_code == 201, pairing.text
        phone = PhoneClient(HTTPTransport(f"{base_url}/mfa/api/"), PhoneKey.generate("p256"))
        phone.register(pairing.json()["pairing_token"], "fcm", "fuzz-" + secrets.token_hex(8), "Fuzz phone")
        browser = password_step(base_url, username, password)  # now MFA is pending
        app_browser = app_login(base_url, username, password)
        return cls(base_url, browser, account, phone, app_browser, app_account)

    def call_kwargs(self, case) -> dict:
        """How to authenticate ``case`` (paths are the schema's, relative to the mount).

        A negative case may leave the security parameter (the ``sessionid`` cookie, the
        ``Authorization`` header, ``X-Session-Token``) out on purpose; then the request goes without
        it. A case that carries ``X-Session-Token`` is an app client: the world's real token, no cookie.
        """
        path = case.path
        if path.startswith("/api/device/") and path != "/api/device/register/":
            return {"auth": DeviceSigner(self.phone)}
        if path == "/api/device/register/" or path.startswith("/api/schema"):
            return {}
        if "X-Session-Token" in (case.headers or {}):
            token = self.app_browser if path in BROWSER_PATHS else self.app_account
            return {"headers": {"X-Session-Token": token}}
        session = self.browser if path in BROWSER_PATHS else self.account
        kwargs = session.kwargs
        declares_cookie = any("cookieAuth" in requirement for requirement in case.operation.definition.raw.get(
            "security", []
        ))
        if declares_cookie and "sessionid" not in (case.cookies or {}):
            kwargs["cookies"].pop("sessionid", None)
        return kwargs


BROWSER_PATHS = {
    "/api/methods/",
    "/api/push/",
    "/api/push/{challenge_id}/",
    "/api/totp/verify/",
    "/api/backup-codes/verify/",
    "/api/webauthn/begin/",
    "/api/webauthn/complete/",
}
