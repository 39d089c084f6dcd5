"""Fixtures for the fallback methods: a JSON API client, the password step, enrolled users."""

from __future__ import annotations

import os
import time

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from django_pushmfa.internal import pending

from .authenticator import SoftwareAuthenticator

POSTGRES = os.environ.get("PUSHMFA_TEST_DB", "sqlite") == "postgres"
postgres_only = pytest.mark.skipif(not POSTGRES, reason="needs real concurrency: run with PUSHMFA_TEST_DB=postgres")


class JSONClient(Client):
    def post_json(self, name_or_path: str, data=None, **kwargs):
        path = name_or_path if name_or_path.startswith("/") else reverse(f"pushmfa:{name_or_path}")
        return self.post(path, data if data is not None else {}, content_type="application/json", **kwargs)


@pytest.fixture
def client():
    return JSONClient()


@pytest.fixture
def password_step(password):
    """Do the password step on the stand-in site's LoginView; asserts the session is now MFA pending."""

    def run(client: JSONClient, user, *, expect_pending: bool = True, next_url: str = "/private/"):
        response = client.post(
            "/accounts/login/", {"username": user.get_username(), "password": password, "next": next_url}
        )
        assert response.status_code == 302, response.content
        is_pending = pending.PENDING_KEY in client.session
        assert is_pending is expect_pending
        return response

    return run


@pytest.fixture
def logged_in(client, password_step):
    """Log a user without MFA in (the password step alone completes the login)."""

    def run(user, c: JSONClient | None = None) -> JSONClient:
        c = c or client
        password_step(c, user, expect_pending=False, next_url="/")
        return c

    return run


def totp_code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


@pytest.fixture
def enroll_totp(logged_in):
    """Enroll TOTP through the API for a logged-in user; returns (client, secret, credential JSON)."""

    def run(user, c: JSONClient | None = None):
        """``c``: a client already fully logged in as ``user`` (needed once the user holds a method)."""
        c = c or logged_in(user, JSONClient())
        setup = c.post_json("api-totp-setup")
        assert setup.status_code == 201, setup.content
        secret = setup.json()["secret"]
        # The previous step's code (the default window accepts it): the current step stays free for a login.
        confirm = c.post_json("api-totp-confirm", {"code": totp_code(secret, -1)})
        assert confirm.status_code == 201, confirm.content
        return secret, confirm.json()

    return run


@pytest.fixture
def authenticator():
    return SoftwareAuthenticator()


@pytest.fixture
def enroll_key(logged_in):
    """Register a software authenticator through the API; returns the credential JSON."""

    def run(user, auth: SoftwareAuthenticator, *, passkey: bool = False, c: JSONClient | None = None):
        """``c``: a client already fully logged in as ``user`` (needed once the user holds a method)."""
        c = c or logged_in(user, JSONClient())
        options = c.post_json("api-webauthn-register-begin", {"passkey": passkey})
        assert options.status_code == 200, options.content
        done = c.post_json(
            "api-webauthn-register-complete", {"credential": auth.create(options.json()), "label": "Key"}
        )
        assert done.status_code == 201, done.content
        return done.json()

    return run
