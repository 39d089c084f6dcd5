"""Fixtures for step-up, recovery and "Your sessions": the login fixtures, plus clients logged in
recently or long ago."""
from __future__ import annotations

import time

import pyotp
import pytest
from django.test import Client

from django_pushmfa.internal.reauth import AUTHENTICATED_AT_KEY
from django_pushmfa.testing.login import force_mfa_login
from tests.login.conftest import add_phone, add_totp, enrolled, login_with_password  # noqa: F401 - fixtures

JSON = {"content_type": "application/json", "HTTP_ACCEPT": "application/json"}


@pytest.fixture
def totp_secret(user, add_totp):  # noqa: F811
    return add_totp(user)


@pytest.fixture
def stale(user):
    """A client logged in as ``user`` long ago: its MFA step is outside the re-authentication window."""
    client = Client()
    force_mfa_login(client, user, recently=False)
    return client


@pytest.fixture
def fresh(user):
    """A client logged in as ``user`` just now (its MFA step counts as a recent authentication)."""
    client = Client()
    force_mfa_login(client, user)
    return client


def age_session(client: Client, seconds: float) -> None:
    """Move this client's recent authentication ``seconds`` into the past."""
    session = client.session
    session[AUTHENTICATED_AT_KEY] = time.time() - seconds
    session.save()


def post(client: Client, path: str, data: dict | None = None):
    return client.post(path, data or {}, **JSON)


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()
