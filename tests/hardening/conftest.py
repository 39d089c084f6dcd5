"""Fixtures of the hardening tests: a Redis that can be killed, enrolled users, pending logins."""
from __future__ import annotations

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.test import Client

from django_pushmfa.adapter import get_adapter
from django_pushmfa.models import MFACredential, TOTPDevice
from django_pushmfa.services import add_credential

from .redis_process import RedisProcess

LOGIN_URL = "/accounts/login/"
API = "/mfa/api/"

#: Every ``code`` an error of the API may carry: the contract's table, DRF's generic errors as the
#: contract names them, and the app's documented extensions (csrf_failed, payload_too_large, webauthn_failed).
KNOWN_ERROR_CODES = frozenset(
    {
        # shared/api-contract.md, "Errors"
        "mfa_required", "mfa_not_in_progress", "no_push_device", "push_suspended", "rate_limited", "not_found",
        "challenge_expired", "challenge_resolved", "wrong_number", "invalid_code", "invalid_pairing_token",
        "not_authenticated", "invalid_signature", "service_unavailable", "invalid", "parse_error",
        # v1.1, "App clients"
        "invalid_credentials",
        # v1.1 additions: typed codes locked after too many failures (issue 11)
        "method_not_available",
        # DRF's generic failures, named by api.exceptions.DRF_CODES
        "method_not_allowed", "not_acceptable", "unsupported_media_type",
        # extensions
        "csrf_failed", "payload_too_large", "webauthn_failed",
    }
)


@pytest.fixture
def redis_process():
    """A private redis-server on a free port, started; tests stop and start it at will."""
    proc = RedisProcess()
    proc.start()
    yield proc
    proc.close()


@pytest.fixture
def outage_cache(redis_process, settings):
    """Point the app's challenge cache (``PUSHMFA_CACHE_ALIAS``) at the private Redis.

    Short socket timeouts so a dead server fails a request in well under a second instead of hanging.
    """
    settings.CACHES = {
        **settings.CACHES,
        "outage": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_process.url,
            "KEY_PREFIX": "pushmfa-outage",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 5},
        },
    }
    settings.PUSHMFA_CACHE_ALIAS = "outage"
    settings.PUSHMFA_CHALLENGE_STORE = None  # the Redis store, chosen for a django-redis cache
    yield redis_process
    # The store's pub/sub listener thread for this alias would keep reconnecting to the dead port.
    from django_pushmfa.push.store.listener import Listener

    Listener.stop_all()


def enroll_totp(user) -> str:
    """Give ``user`` an active TOTP credential; returns the base32 secret."""
    secret = pyotp.random_base32()
    with transaction.atomic():
        credential = add_credential(user, MFACredential.Method.TOTP, label="Authenticator app")
        TOTPDevice.objects.create(
            credential=credential, encrypted_secret=get_adapter().encrypt_secret(secret), digits=6, period=30
        )
    return secret


def password_login(client: Client, user, password: str, path: str = LOGIN_URL, **extra):
    """Submit the password step through the site's own LoginView (or ``path``)."""
    return client.post(path, {"username": user.get_username(), "password": password}, **extra)


def session_user_id(client: Client) -> str | None:
    """The user id the client's session is logged in as, or None (pending sessions hold none)."""
    return client.session.get(SESSION_KEY)


def is_logged_in(client: Client) -> bool:
    return session_user_id(client) is not None


@pytest.fixture
def totp_user(user):
    """``user`` (alice) with TOTP enrolled; ``user.totp_secret`` holds the secret."""
    user.totp_secret = enroll_totp(user)
    return user


@pytest.fixture
def pending_client(client, totp_user, password):
    """A test client whose session did the password step and waits for the MFA step."""
    response = password_login(client, totp_user, password)
    assert response.status_code == 302, response.content[:500]
    assert not is_logged_in(client)
    return client


# --- push: a paired phone and a browser mid-login -------------------------------------------------
def json_post(client: Client, path: str, data=None, **extra):
    import json

    return client.post(path, json.dumps({} if data is None else data), content_type="application/json", **extra)


def logged_in_client(user, password: str) -> Client:
    """A browser fully logged in as ``user`` (who must have no MFA yet, or it would stop at the MFA step)."""
    client = Client()
    response = password_login(client, user, password)
    assert response.status_code == 302 and is_logged_in(client), "expected a direct login (no MFA yet)"
    return client


def pair_phone(account_client: Client, **register_kwargs):
    """Pair a new phone through the account API and the device registration endpoint (the contract's way)."""
    from .device import Phone

    response = json_post(account_client, API + "devices/pairing/")
    assert response.status_code == 201, response.content
    phone = Phone()
    registered = phone.register(response.json()["pairing_token"], **register_kwargs)
    assert registered.status_code == 201, registered.content
    return phone


@pytest.fixture
def account_client(user, password):
    """``user`` logged in for real before enrolling anything (so the session is complete)."""
    return logged_in_client(user, password)


@pytest.fixture
def phone(account_client):
    """A phone paired to ``user`` (alice)."""
    return pair_phone(account_client)


@pytest.fixture
def push_user(user, phone):
    user.phone = phone
    return user


def new_browser(user, password: str) -> Client:
    """A fresh browser that did the password step of ``user`` and now waits for MFA."""
    client = Client()
    response = password_login(client, user, password)
    assert response.status_code == 302 and not is_logged_in(client), response.content[:300]
    return client


@pytest.fixture
def browser(push_user, password):
    return new_browser(push_user, password)


def start_push(client: Client, expect: int = 201, **extra) -> dict:
    response = json_post(client, API + "push/", **extra)
    assert response.status_code == expect, response.content
    return response.json()


#: The contract's poll path, and the native async view of the same contract (for ASGI deployments).
POLL_VARIANTS = ["", "async/"]


def poll(client: Client, challenge_id: str, wait: int | str | None = None, variant: str = ""):
    query = "" if wait is None else f"?wait={wait}"
    return client.get(f"{API}push/{challenge_id}/{variant}{query}", HTTP_ACCEPT="application/json")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "redis_outage: starts and kills a private redis-server (needs /usr/bin/redis-server)"
    )
