"""The raw redis-py client behind a Django cache: django-redis's, or Django's own ``RedisCache``'s.

Both the push challenge store and the typed-code throttle run Lua scripts on it, which need the
client itself: the cache API (``get``/``set``/``incr``) is neither atomic across steps nor honest
under django-redis's ``IGNORE_EXCEPTIONS`` (a dead server then reads as an empty cache).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # pragma: no cover
    from django.core.cache.backends.redis import RedisCache

DJANGO_REDIS_PREFIX = "django_redis."
DJANGO_REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def is_redis_backend(backend: str) -> bool:
    """True for a cache ``BACKEND`` path whose client is redis-py (django-redis or Django's own)."""
    return backend.startswith(DJANGO_REDIS_PREFIX) or backend == DJANGO_REDIS_CACHE


def is_redis_alias(alias: str) -> bool:
    from django.conf import settings

    return is_redis_backend(settings.CACHES.get(alias, {}).get("BACKEND", ""))


def raw_client(alias: str) -> Any:
    """The redis-py client (write connection) of cache ``alias``; ``NotImplementedError`` when the
    cache is not a Redis one."""
    from django.conf import settings
    from django.core.cache import caches

    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend.startswith(DJANGO_REDIS_PREFIX):
        from django_redis import get_redis_connection

        return get_redis_connection(alias, write=True)
    if backend == DJANGO_REDIS_CACHE:
        return cast("RedisCache", caches[alias])._cache.get_client(write=True)
    raise NotImplementedError(f"cache {alias!r} ({backend}) is not a Redis cache")


def redis_errors() -> tuple[type[BaseException], ...]:
    """What a Redis call raises when the server is gone (redis-py's errors, sockets, django-redis's)."""
    from redis.exceptions import RedisError

    errors: list[type[BaseException]] = [RedisError, OSError]
    try:
        from django_redis.exceptions import ConnectionInterrupted

        errors.append(ConnectionInterrupted)
    except ImportError:  # pragma: no cover - django-redis is a dependency
        pass
    return tuple(errors)
