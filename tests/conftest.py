"""Shared fixtures. Store and flow tests that must hold on both challenge stores take ``any_store``."""
from __future__ import annotations

import pytest
from django.core.cache import caches


@pytest.fixture(autouse=True)
def _clean_caches():
    """Each test starts with empty caches (the real Redis one included) and an empty push outbox."""
    for alias in ("default", "redis", "locmem"):
        caches[alias].clear()
    try:
        from django_pushmfa.push.backends import locmem

        locmem.outbox.clear()
    except ImportError:
        pass
    yield


@pytest.fixture
def password():
    return "correct horse battery staple"


@pytest.fixture
def user_factory(django_user_model, password):
    counter = {"n": 0}

    def make(username=None, **extra):
        counter["n"] += 1
        username = username or f"user{counter['n']}"
        extra.setdefault("email", f"{username}@example.com")
        return django_user_model.objects.create_user(username=username, password=password, **extra)

    return make


@pytest.fixture
def user(user_factory):
    return user_factory("alice")


@pytest.fixture
def staff_user(django_user_model, password):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", password)


def pytest_ignore_collect(collection_path, config):
    """tests/importers/ runs with its own settings (the source packages' apps): see tests/importers/settings.py."""
    from django.conf import settings

    if collection_path.name == "importers" and "allauth.mfa" not in settings.INSTALLED_APPS:
        return True
    return None
