"""Fixtures for the challenge-service tests: the same tests run on the cache store (local memory)
and on the Redis store (a real Redis), plus a user with a paired phone and browser requests."""
from __future__ import annotations

import threading
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory

from django_pushmfa.internal import pending
from django_pushmfa.models import MFACredential, PushDevice
from django_pushmfa.push.store import CACHE_STORE, CLUSTER_STORE, REDIS_STORE, get_store
from django_pushmfa.push.store.base import PENDING, Challenge, new_challenge_id

CONTEXT = {"ip": "203.0.113.9", "browser": "Firefox 128", "os": "Linux", "location": "unknown location"}
STORES = {
    "cache": ("locmem", CACHE_STORE),
    "redis": ("redis", REDIS_STORE),
    # Django's own RedisCache: the same Redis store through its redis-py client (issue 11, finding 4).
    "redis-builtin": ("redis-builtin", REDIS_STORE),
    # the Redis store through django-redis's Sentinel client, on a primary + replica + 3 sentinels
    "sentinel": ("sentinel", REDIS_STORE),
    # the Redis Cluster store on 3 primaries + 3 replicas
    "cluster": ("cluster", CLUSTER_STORE),
}
TOPOLOGIES = {"sentinel": ("redis_sentinel", "pushmfa-test-s"), "cluster": ("redis_cluster", "pushmfa-test-c")}


@pytest.fixture(params=sorted(STORES))
def store(request, settings):
    """The challenge store under test; ``get_store()`` (what the flows use) returns the same one."""
    alias, path = STORES[request.param]
    if alias in TOPOLOGIES:
        fixture, prefix = TOPOLOGIES[alias]
        settings.CACHES = {**settings.CACHES, alias: request.getfixturevalue(fixture).cache(prefix)}
    settings.PUSHMFA_CACHE_ALIAS = alias
    settings.PUSHMFA_CHALLENGE_STORE = path
    store = get_store()
    assert store.alias == alias
    if alias in TOPOLOGIES:
        store.cache.clear()
        request.addfinalizer(_stop_listeners)
    return store


def _stop_listeners() -> None:
    """The pub/sub listener of an alias that exists only during the test would reconnect forever."""
    from django_pushmfa.push.store.listener import Listener

    Listener.stop_all()


@pytest.fixture
def make_challenge():
    def make(user_id="1", *, ttl=120.0, binding="binding-1", number="47", choices=("23", "47", "81"), **extra):
        now = time.time()
        return Challenge(
            id=new_challenge_id(),
            user_id=str(user_id),
            binding=binding,
            display_number=number,
            choices=list(choices) if choices is not None else None,
            status=PENDING,
            created_at=now,
            expires_at=now + ttl,
            **{"context": dict(CONTEXT), **extra},
        )

    return make


def public_key_der() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture
def device_factory(db):
    def make(user, *, name="Pixel 8", platform="fcm", **extra):
        credential = MFACredential.objects.create(user=user, method=MFACredential.Method.PUSH, label=name)
        return PushDevice.objects.create(
            credential=credential,
            platform=platform,
            push_token=f"token-{credential.pk}",
            public_key=public_key_der(),
            key_type=PushDevice.KeyType.P256,
            name=name,
            **extra,
        )

    return make


@pytest.fixture
def device(user, device_factory):
    return device_factory(user)


@pytest.fixture
def browser(user):
    """A factory of browser requests mid-login for ``user``; requests made with ``same=`` share its session."""
    factory = RequestFactory()

    def make(*, same=None, ip="192.0.2.1", user_agent=None):
        request = factory.get("/mfa/", REMOTE_ADDR=ip)
        if user_agent is not None:
            request.META["HTTP_USER_AGENT"] = user_agent
        if same is not None:
            request.session = same.session
        else:
            SessionMiddleware(lambda r: None).process_request(request)
            pending.begin(request, user, "django_pushmfa.auth_backends.MFAModelBackend")
        return request

    return make


class CommandCounter:
    """Counts the commands sent through one connection pool, from any thread (Django's caches are
    per thread, so each thread has its own client object; the pool is process-wide)."""

    def __init__(self, pool, original):
        self.pool = pool
        self.commands: list[str] = []
        self._original = original
        self._lock = threading.Lock()

    def wrapper(self):
        counter = self

        def execute_command(client, *args, **kwargs):
            if client.connection_pool is counter.pool:
                with counter._lock:
                    counter.commands.append(str(args[0]).upper())
            return counter._original(client, *args, **kwargs)

        return execute_command

    def reset(self) -> list[str]:
        with self._lock:
            commands, self.commands = self.commands, []
        return commands


@pytest.fixture
def redis_commands(monkeypatch):
    """A counter of the commands sent to the "redis" alias's server, with the store's scripts loaded
    first (so no NOSCRIPT round trip makes counts depend on test order)."""
    import redis
    from django_redis import get_redis_connection

    from django_pushmfa.push.store import redis_scripts

    client = get_redis_connection("redis")
    for name in ("CREATE", "RESOLVE", "RESPOND", "CLAIM", "PENDING_FOR_USER", "HIT", "LIFT"):
        client.script_load(getattr(redis_scripts, name))
    counter = CommandCounter(client.connection_pool, redis.Redis.execute_command)
    monkeypatch.setattr(redis.Redis, "execute_command", counter.wrapper())
    return counter
