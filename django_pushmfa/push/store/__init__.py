"""The challenge store: where push challenges, fatigue counters and suspensions live.

``get_store()`` returns the store for ``PUSHMFA_CACHE_ALIAS``: the class named by
``PUSHMFA_CHALLENGE_STORE``, or, when that is None, the Redis store for a Redis cache (django-redis
or Django's own ``RedisCache``), the Redis Cluster store for a ``RedisClusterCache`` and the generic
cache store for any other cache. One instance per (class, alias) per process.
"""
from __future__ import annotations

import threading

from ...app_settings import app_settings, import_setting
from .base import Challenge, ChallengeStore, RateLimit, Resolution, SuspensionPolicy

__all__ = ["Challenge", "ChallengeStore", "RateLimit", "Resolution", "SuspensionPolicy", "get_store", "store_class"]

CACHE_STORE = "django_pushmfa.push.store.cache.CacheChallengeStore"
REDIS_STORE = "django_pushmfa.push.store.redis.RedisChallengeStore"
CLUSTER_STORE = "django_pushmfa.push.store.cluster.RedisClusterChallengeStore"
CLUSTER_CACHE = "django_pushmfa.push.store.cluster_cache.RedisClusterCache"

_instances: dict[tuple[str, str], ChallengeStore] = {}
_guard = threading.Lock()


def is_redis_cache(alias: str) -> bool:
    """True when cache ``alias`` is a Redis cache — django-redis, or Django's own ``RedisCache`` —
    whose raw redis-py connection the Redis store uses."""
    from ...internal.redis_client import is_redis_alias

    return is_redis_alias(alias)


def store_class(alias: str | None = None) -> str:
    """Dotted path of the store class that serves ``alias`` (default: ``PUSHMFA_CACHE_ALIAS``)."""
    if app_settings.CHALLENGE_STORE:
        return app_settings.CHALLENGE_STORE
    alias = alias or app_settings.CACHE_ALIAS
    if is_cluster_cache(alias):
        return CLUSTER_STORE
    return REDIS_STORE if is_redis_cache(alias) else CACHE_STORE


def is_cluster_cache(alias: str) -> bool:
    """True when cache ``alias`` is the app's Redis Cluster cache (``push.store.cluster_cache``)."""
    from django.conf import settings

    return settings.CACHES.get(alias, {}).get("BACKEND", "") == CLUSTER_CACHE


def get_store() -> ChallengeStore:
    """The configured challenge store (settings are read on each call, so overrides apply)."""
    alias = app_settings.CACHE_ALIAS
    path = store_class(alias)
    key = (path, alias)
    store = _instances.get(key)
    if store is None:
        with _guard:
            store = _instances.get(key)
            if store is None:
                cls = import_setting("CHALLENGE_STORE", path)
                store = _instances[key] = cls(alias)
    return store
