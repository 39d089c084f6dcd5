"""Shared fixtures. Store and flow tests that must hold on both challenge stores take ``any_store``."""
from __future__ import annotations

import time

import pytest
from django.core.cache import caches

from django_pushmfa.api.authentication import NONCE_EPOCH_KEY


@pytest.fixture(autouse=True)
def _clean_caches():
    """Each test starts with empty caches (the real Redis one included) and an empty push outbox."""
    aliases = ("default", "redis", "redis-builtin", "locmem")
    for alias in aliases:  # several aliases may share one Redis database: clear them all first
        caches[alias].clear()
    for alias in aliases:
        # A nonce store that has been up for an hour: a fresh one refuses requests signed before it
        # started (tests/hardening/test_attacks_replay_restart.py), which would refuse the skewed
        # timestamps tests send on purpose.
        caches[alias].set(NONCE_EPOCH_KEY, int(time.time()) - 3600, None)
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


# --- Redis topologies started on free loopback ports, once per run (tests/push_store, tests/scale) ---
@pytest.fixture(scope="session")
def redis_sentinel():
    """A primary, a replica and three sentinels (``tests.hardening.redis_process.SentinelTopology``)."""
    from .hardening.redis_process import SentinelTopology

    topology = SentinelTopology()
    try:
        topology.start()
        yield topology
    finally:
        topology.close()


@pytest.fixture(scope="session")
def redis_cluster():
    """3 primaries + 3 replicas built with ``redis-cli --cluster create`` (``ClusterTopology``)."""
    from .hardening.redis_process import ClusterTopology

    topology = ClusterTopology()
    try:
        topology.start()
        yield topology
    finally:
        topology.close()


def pytest_ignore_collect(collection_path, config):
    """tests/importers/ runs with its own settings (the source packages' apps): see tests/importers/settings.py."""
    from django.conf import settings

    if collection_path.name == "importers" and "allauth.mfa" not in settings.INSTALLED_APPS:
        return True
    return None
