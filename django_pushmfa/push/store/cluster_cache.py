"""A Django cache backend on a Redis Cluster, through redis-py's cluster client.

Neither Django's ``RedisCache`` nor django-redis speaks the Cluster protocol, and the app keeps more
than challenges in ``PUSHMFA_CACHE_ALIAS`` (device request nonces, WebAuthn markers, code back-off):
this backend gives those a cache on the same cluster, and the Cluster challenge store
(``push.store.cluster``) its client. Configure::

    CACHES["pushmfa"] = {
        "BACKEND": "django_pushmfa.push.store.cluster_cache.RedisClusterCache",
        "LOCATION": ["redis://10.0.0.1:6379", "redis://10.0.0.2:6379"],  # any nodes: the rest is discovered
        "KEY_PREFIX": "pushmfa",  # no "{" or "}": keys must keep their own hash tags
        # RedisCluster keyword arguments (max_connections: per node, redis-py's default is 100)
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 0.5, "max_connections": 200},
    }
    PUSHMFA_CACHE_ALIAS = "pushmfa"

It is Django's ``RedisCache`` with one shared ``RedisCluster`` client per process (and configuration); the multi-key
operations go key by key (``get_many``: ``MGET`` per slot), so keys spread over every primary.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

if TYPE_CHECKING:  # pragma: no cover
    from django.core.cache.backends.redis import _RedisCacheClientSerializer

#: One ``RedisCluster`` per process and configuration: Django makes a cache object per thread, and a
#: new cluster client costs a slot-map discovery (``CLUSTER SLOTS``, ``COMMAND``) and new connections.
_clients: dict[str, Any] = {}
_guard = threading.Lock()


class RedisClusterCacheClient(RedisCacheClient):
    # Set by Django's RedisCacheClient.__init__ (its stubs leave these private attributes out).
    _servers: list[str]
    _lib: ModuleType
    _serializer: _RedisCacheClientSerializer

    def __init__(self, servers: list[str], **options: Any) -> None:
        serializer = options.pop("serializer", None)
        super().__init__(servers, serializer=serializer)
        self._cluster_options = options
        self._key = repr((list(servers), sorted(options.items())))

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        """The process's ``RedisCluster`` for this configuration (thread-safe; it routes each command
        to the node that serves its slot)."""
        client = _clients.get(self._key)
        if client is None:
            from redis.cluster import ClusterNode, RedisCluster

            with _guard:
                client = _clients.get(self._key)
                if client is None:
                    nodes = []
                    for server in self._servers:
                        url = self._lib.connection.parse_url(server)
                        nodes.append(ClusterNode(url.get("host", "127.0.0.1"), int(url.get("port", 6379))))
                    client = _clients[self._key] = RedisCluster(startup_nodes=nodes, **self._cluster_options)
        return client

    def get_many(self, keys: Any) -> dict:
        keys = list(keys)
        values = self.get_client().mget_nonatomic(keys)
        return {k: self._serializer.loads(v) for k, v in zip(keys, values, strict=True) if v is not None}

    def set_many(self, data: Mapping[Any, Any], timeout: int | timedelta | None) -> None:
        pipeline = self.get_client(write=True).pipeline()
        for key, value in data.items():
            if timeout is None:
                pipeline.set(key, self._serializer.dumps(value))
            else:
                pipeline.set(key, self._serializer.dumps(value), ex=timeout)
        pipeline.execute()

    def clear(self) -> bool:
        from redis.cluster import RedisCluster

        return bool(self.get_client(write=True).flushdb(target_nodes=RedisCluster.PRIMARIES))


class RedisClusterCache(RedisCache):
    """``LOCATION``: a list (or ``,``/``;``-separated string) of ``redis://host:port`` startup nodes;
    ``OPTIONS``: keyword arguments of ``redis.cluster.RedisCluster``."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisClusterCacheClient
