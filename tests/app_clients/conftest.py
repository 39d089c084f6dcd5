"""Fixtures for app clients (SPAs, the site's own mobile apps): a cookie-less client with X-Session-Token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.login.conftest import add_phone, add_totp  # noqa: F401 - fixtures shared with the login tests


class AppClient:
    """A client that never sends cookies: its session travels in ``X-Session-Token``.

    CSRF checks are enforced (Django's test client skips them by default), so every request here
    proves that a header-authenticated call needs no CSRF token.
    """

    def __init__(self, token: str | None = None) -> None:
        self.token = token

    def _client(self) -> Client:
        return Client(enforce_csrf_checks=True)  # a fresh one per call: no cookie ever carries over

    def headers(self, token: str | None = None) -> dict:
        token = token if token is not None else self.token
        return {"HTTP_X_SESSION_TOKEN": token} if token is not None else {}

    def post(self, name_or_path: str, data: dict | None = None, *, token: str | None = None, args=()):
        path = name_or_path if name_or_path.startswith("/") else reverse(f"pushmfa:{name_or_path}", args=args)
        return self._client().post(
            path, data or {}, content_type="application/json", HTTP_ACCEPT="application/json", **self.headers(token)
        )

    def get(self, name_or_path: str, *, token: str | None = None, args=()):
        path = name_or_path if name_or_path.startswith("/") else reverse(f"pushmfa:{name_or_path}", args=args)
        return self._client().get(path, HTTP_ACCEPT="application/json", **self.headers(token))

    def login(self, username: str, password: str):
        response = self.post("api-app-login", {"username": username, "password": password})
        if response.status_code == 200:
            self.token = response.json()["session_token"]
        return response

    def completed(self, response) -> None:
        """Take the token of an answer that completed the MFA step."""
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "approved", body
        assert body["session_token"] != self.token
        self.token = body["session_token"]


@pytest.fixture
def app():
    return AppClient()
