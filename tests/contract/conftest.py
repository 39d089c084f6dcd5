"""Fixtures of the contract suite: a live server, browsers and phones that talk real HTTP to it.

Users and passwords come from the ORM (the contract has no API for them); everything else is made
the contract's way: a push device is paired by a fully logged-in browser (``POST api/devices/pairing/``)
and registered by the phone (``POST api/device/register/``) with the phone's own key.
"""
from __future__ import annotations

import itertools

import pytest

from tests.contract.client import Browser, Phone, PhoneKey

#: Users get distinctive primary keys so a raw-body scan for the user's id cannot hit by chance.
_user_ids = itertools.count(918_273_645)


def assert_error(response, status: int, code: str, *, extra_fields_allowed: bool = False) -> dict:
    """``response`` is the contract's error: ``status`` and ``{"detail": str, "code": code}``."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert body.get("code") == code, body
    if not extra_fields_allowed:
        assert set(body) == {"detail", "code"}, body
    return body


def shared_sqlite_connection() -> bool:
    """True on SQLite: one database-wide write lock, so truly concurrent writing requests are left to
    the PostgreSQL run (on Django's in-memory test database they would even share one connection)."""
    from django.db import connection

    return connection.vendor == "sqlite"


@pytest.fixture
def site(live_server) -> str:
    return live_server.url


@pytest.fixture
def make_user(django_user_model, password):
    def make(username: str | None = None):
        pk = next(_user_ids)
        return django_user_model.objects.create_user(
            pk=pk, username=username or f"client{pk}", password=password, email=f"u{pk}@example.com"
        )

    return make


@pytest.fixture
def browser_factory(site):
    made: list[Browser] = []

    def make(**kwargs) -> Browser:
        browser = Browser(site, **kwargs)
        made.append(browser)
        return browser

    yield make
    for browser in made:
        browser.close()


@pytest.fixture
def phone_factory(site):
    made: list[Phone] = []

    def make(key_type: str = "p256", **kwargs) -> Phone:
        phone = Phone(site, key=PhoneKey.generate(key_type), **kwargs)
        made.append(phone)
        return phone

    yield make
    for phone in made:
        phone.close()


@pytest.fixture
def signed_in(browser_factory, password):
    """``signed_in(user)`` → a Browser fully logged in (the user must not have MFA yet)."""

    def login(user) -> Browser:
        browser = browser_factory()
        response = browser.login(user.get_username(), password)
        assert response.status_code == 302, response.text
        assert not response.headers["location"].startswith("/mfa/"), response.headers["location"]
        return browser

    return login


@pytest.fixture
def pair(phone_factory):
    """``pair(account_browser, key_type=..., name=...)`` → a registered Phone (via pairing + register)."""

    def pair_phone(browser: Browser, key_type: str = "p256", **kwargs) -> Phone:
        response = browser.api("POST", "api/devices/pairing/", {})
        assert response.status_code == 201, response.text
        phone = phone_factory(key_type, **kwargs)
        registered = phone.register(response.json()["pairing_token"])
        assert registered.status_code == 201, registered.text
        return phone

    return pair_phone


@pytest.fixture
def enroll(signed_in, pair):
    """``enroll(user, "p256", "ed25519", ...)`` → one registered Phone per key type, paired the contract's way."""

    def enroll_user(user, *key_types: str, names: tuple[str, ...] = ()) -> list[Phone]:
        browser = signed_in(user)
        phones = []
        for i, key_type in enumerate(key_types or ("p256",)):
            name = names[i] if i < len(names) else f"Secret Phone {user.pk}-{i}"
            phones.append(pair(browser, key_type, name=name))
        return phones

    return enroll_user


@pytest.fixture
def pending(browser_factory, password):
    """``pending(user)`` → a Browser that has done the password step (MFA pending)."""

    def login(user, **kwargs) -> Browser:
        browser = browser_factory(**kwargs)
        response = browser.login(user.get_username(), password)
        assert response.status_code == 302, response.text
        return browser

    return login


@pytest.fixture
def push_user(make_user, enroll):
    """A user with one P-256 push device: ``(user, phone)``."""
    user = make_user()
    (phone,) = enroll(user, "p256", names=("Alice's Secret Pixel",))
    return user, phone
