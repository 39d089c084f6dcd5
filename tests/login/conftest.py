"""Fixtures for the login-integration tests: enrolled users, password logins, a paired phone."""
from __future__ import annotations

import secrets

import pyotp
import pytest
from django.db import transaction
from django.test import Client, RequestFactory

from django_pushmfa import services
from django_pushmfa.adapter import get_adapter
from django_pushmfa.models import MFACredential, TOTPDevice

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def add_totp():
    """``add_totp(user)`` → the base32 secret of a new active TOTP credential of ``user``."""

    def add(user, primary=None):
        secret = pyotp.random_base32()
        with transaction.atomic():
            credential = services.add_credential(
                user, MFACredential.Method.TOTP, label="Phone app", make_primary=primary
            )
            TOTPDevice.objects.create(credential=credential, encrypted_secret=get_adapter().encrypt_secret(secret))
        return secret

    return add


@pytest.fixture
def add_phone(db):
    """``add_phone(user)`` → a PhoneClient (the reference phone) paired with ``user`` via the device API."""
    from django_pushmfa.internal.pairing import create_pairing_token
    from django_pushmfa.testing.phone import DjangoClientTransport, PhoneClient, PhoneKey

    def add(user, name="Alice's Pixel 8"):
        phone = PhoneClient(DjangoClientTransport(Client()), PhoneKey.generate("p256"))
        token = create_pairing_token(user, RequestFactory().get("/")).token
        phone.register(token, platform="fcm", push_token=f"tok-{user.pk}-{secrets.token_hex(8)}", name=name)
        return phone

    return add


@pytest.fixture
def enrolled(user, add_totp):
    """``user`` with an active TOTP credential (MFA enrolled)."""
    add_totp(user)
    return user


@pytest.fixture
def login_with_password(password):
    """``login_with_password(client, user, path="/accounts/login/", next=None)`` → the response."""

    def do(client, user, path="/accounts/login/", next=None):
        data = {"username": user.get_username(), "password": password}
        if next:
            data["next"] = next
        return client.post(path, data)

    return do


def poll(client, url, wait=None, **extra):
    query = "" if wait is None else f"?wait={wait}"
    return client.get(url + query, **JSON, **extra)
