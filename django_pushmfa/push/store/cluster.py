"""The challenge store on a Redis Cluster (Redis >= 7), through redis-py's cluster client.

It runs on a cache of :class:`~.cluster_cache.RedisClusterCache` (the cluster's connection settings
live there) and keeps the Redis store's scripts, with the keys laid out for a cluster:

- a challenge and its wake-up channel share the challenge id as hash tag
  (``pushmfa:c:{<id>}``, ``pushmfa:ev:{<id>}``): every script on a challenge runs in its one slot;
- a user's keys share the user as hash tag (``pushmfa:u:{u:<pk>}``, ``sus:``, ``den:``, ``rep:``): the
  pointer to the outstanding challenge, the suspension flag and the denial / report runs;
- rate-limit counters, ``hit`` counters and (through the cache) device nonces carry no hash tag, so
  they spread over every primary.

What was one script on a standalone Redis is a few, each in one slot: starting a push checks the
suspension, counts each rate limit, saves the challenge, swaps the user's pointer (re-checking the
suspension) and expires the previous challenge; an answer moves the challenge, then counts its
penalty in the user's slot. Each step is atomic and exactly-once where it matters (the moves are
the same compare-and-set scripts), so two racing answers still cannot both win.

Wake-ups use sharded pub/sub: scripts ``SPUBLISH`` on the challenge's own channel, and each process
subscribes (``SSUBSCRIBE``) only to the channels of challenges a local long-poll waits for
(:class:`ClusterListener`), so a change reaches just the shard that owns it and the processes that
wait for it, never every node.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from ...exceptions import ChallengeStoreUnavailable, PushSuspended, RateLimited
from .base import EXPIRED, PENDING, Challenge, RateLimit
from .listener import Listener
from .redis import READY_TIMEOUT, RedisChallengeStore, _text
from .waiters import RECHECK, Change, Watch, hub

logger = logging.getLogger("django_pushmfa")

SCRIPTS = ("SAVE", "SWAP", "HIT", "RESOLVE", "RESPOND", "PENALTY", "CLAIM", "LIFT")  # what this store runs


class RedisClusterChallengeStore(RedisChallengeStore):
    PUBLISH = "SPUBLISH"
    ATOMIC_PENALTY = False

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        from redis.exceptions import RedisClusterException

        self._errors = (*self._errors, RedisClusterException)

    # --- layout ----------------------------------------------------------------------------------
    def client(self) -> Any:
        from .cluster_cache import RedisClusterCache

        cache = self.cache
        if not isinstance(cache, RedisClusterCache):
            raise ChallengeStoreUnavailable(f"cache {self.alias!r} is not a RedisClusterCache")
        # A RedisCluster (RedisClusterCacheClient.get_client), not the Redis the stubs of RedisCache say.
        client: Any = self._call(lambda: cache._cache.get_client(write=True))
        if not getattr(client, "_pushmfa_scripts", False):
            # Load every script on every primary once per client, so that no request pays for a
            # NOSCRIPT round trip to all primaries (a promoted replica still reloads on NOSCRIPT).
            self._call(lambda: [client.script_load(self._script(name).script) for name in SCRIPTS])
            client._pushmfa_scripts = True
        return client

    @property
    def cache_settings(self) -> dict:
        """This store's entry in ``CACHES`` (what another process needs to reach the same cluster)."""
        from django.conf import settings

        return settings.CACHES[self.alias]

    def ckey(self, challenge_id: str) -> str:
        return self.key(f"c:{{{challenge_id}}}")

    def ukey(self, kind: str, user_id: str) -> str:
        return self.key(f"{kind}:{{u:{user_id}}}")

    def channel_for(self, challenge_id: str) -> str:
        return self.key(f"ev:{{{challenge_id}}}")

    def hit_key(self, key: str) -> str:
        # A poll tickets' counter ("poller:<challenge id>") lives in its challenge's hash slot, where
        # CLAIM reads it.
        kind, _, rest = key.partition(":")
        return self.key(f"hit:{kind}:{{{rest}}}") if kind == "poller" else super().hit_key(key)

    # --- challenges ------------------------------------------------------------------------------
    def create(
        self, challenge: Challenge, *, limits: Sequence[RateLimit] = (), suspension_of: str | None = None
    ) -> Challenge | None:
        """:meth:`ChallengeStore.create` in one-slot steps (see the module's docstring)."""
        now = time.time()
        client = self.client()
        if suspension_of is not None:
            self._refuse_if_suspended(self._call(lambda: client.pttl(self.ukey("sus", suspension_of))))
        for limit in limits:
            count, ttl = self._run("HIT", [self.key(f"rl:{limit.scope}:{limit.key}")], [int(limit.window)])
            if int(count) > limit.limit:
                exc = RateLimited(math.ceil(int(ttl) / 1000), limit.scope)
                exc.first_in_window = int(count) == limit.limit + 1
                raise exc
        ckey = self.ckey(challenge.id)
        ttl_ms = max(1, math.ceil((challenge.expires_at - now + _grace()) * 1000))
        self._run("SAVE", [ckey], [self._static(challenge), repr(challenge.expires_at), ttl_ms])
        keys = [self.ukey("u", challenge.user_id), self.ukey("sus", suspension_of or challenge.user_id)]
        result = self._run("SWAP", keys, [f"{challenge.id} {ckey}", ttl_ms, "1" if suspension_of else "0"])
        if _text(result[0]) == "suspended":  # suspended between the check and the swap
            self._call(lambda: client.delete(ckey))
            self._refuse_if_suspended(int(result[1]))
        previous = _text(result[1]) if len(result) > 1 and result[1] else ""
        previous_id = previous.split(" ", 1)[0]
        if previous_id and previous_id != challenge.id:
            moved = self.resolve(previous_id, PENDING, EXPIRED)
            if moved.ok:
                return moved.challenge
        return None

    @staticmethod
    def _refuse_if_suspended(ttl_ms: int) -> None:
        if int(ttl_ms) > 0:
            raise PushSuspended(math.ceil(int(ttl_ms) / 1000))

    def latest_for_user(self, user_id: str) -> Challenge | None:
        client = self.client()
        pointer = self._call(lambda: client.get(self.ukey("u", user_id)))
        if not pointer:
            return None
        challenge_id, ckey = _text(pointer).split(" ", 1)
        return self._decode(challenge_id, self._call(lambda: client.hgetall(ckey)))

    # --- long-poll ---------------------------------------------------------------------------------
    def prepare_watch(self) -> None:
        ClusterListener.for_store(self).ready.wait(READY_TIMEOUT)

    @contextmanager
    def watch(self, challenge_id: str, *, prepare: bool = True) -> Iterator[Watch]:
        """As :meth:`ChallengeStore.watch`, plus a subscription to the challenge's own channel for as
        long as a local waiter watches it. The waiter reads once more when the subscription is
        confirmed, so a change made before then is not missed either."""
        if prepare:
            self.prepare_watch()
        listener = cast(ClusterListener, ClusterListener.for_store(self))  # for_store makes a cls
        watcher = hub.register(self.alias, challenge_id, self)
        listener.want(challenge_id)
        try:
            yield watcher
        finally:
            listener.unwant(challenge_id)
            hub.unregister(watcher)


def _grace() -> float:
    from ...app_settings import app_settings

    return float(app_settings.CHALLENGE_GRACE)


class ClusterListener(Listener):
    """The sharded pub/sub of a process and alias: a reader thread per primary that owns a watched
    challenge's slot, each subscribed (``SSUBSCRIBE``) to the channels of the challenges local waiters watch
    there (counted, so two waiters of one challenge share a subscription).

    Waiters ask through :meth:`want` / :meth:`unwant`; only a node's reader touches its connection
    (it applies the requests between reads, which block at most ``POLL`` seconds, so a message wakes
    its waiters at once). A confirmed subscription wakes its waiters to read again. When a reader
    fails (a node down, a failover, a slot moved: ``MOVED``), this supervising thread refreshes the
    cluster's slot map, drops every reader, wakes every waiter to read again, and subscribes anew on
    the nodes that serve the channels now.
    """

    _instances: dict[tuple[str, str], Listener] = {}
    POLL = 0.05  # seconds a busy reader's read blocks: the longest a new subscription waits to be sent

    def __init__(self, store: RedisClusterChallengeStore) -> None:
        super().__init__(store)
        self._lock = threading.Lock()
        self._wanted: dict[str, str] = {}  # channel -> challenge id
        self._waiters: dict[str, int] = {}  # channel -> local waiters
        self._readers: dict[str, _NodeReader] = {}  # node name -> its reader
        self._broken = threading.Event()

    # --- called by waiters -----------------------------------------------------------------------
    def want(self, challenge_id: str) -> None:
        channel = self.store.channel_for(challenge_id)
        with self._lock:
            self._waiters[channel] = self._waiters.get(channel, 0) + 1
            if self._waiters[channel] > 1:
                return
            self._wanted[channel] = challenge_id
            if self.ready.is_set():
                try:
                    self._reader_for(channel).request(True, channel)
                except Exception:  # the slot map or the node is unusable: rebuild (and recheck)
                    self._broken.set()

    def unwant(self, challenge_id: str) -> None:
        channel = self.store.channel_for(challenge_id)
        with self._lock:
            left = self._waiters.get(channel, 0) - 1
            if left > 0:
                self._waiters[channel] = left
                return
            self._waiters.pop(channel, None)
            self._wanted.pop(channel, None)
            for reader in self._readers.values():
                reader.request(False, channel)

    # --- called by readers -----------------------------------------------------------------------
    def subscribed(self, channel: str) -> None:
        with self._lock:
            challenge_id = self._wanted.get(channel)
        if challenge_id is not None:
            hub.notify(self.alias, challenge_id, RECHECK)

    def failed(self) -> None:
        self._broken.set()

    # --- the supervising thread ------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        self._broken.set()
        super().stop()
        self._drop_readers()

    def _reader_for(self, channel: str) -> _NodeReader:
        """The reader of the primary that serves ``channel``'s slot now (started on first use)."""
        cluster = self.store.client()
        node = cluster.get_node_from_key(channel)
        reader = self._readers.get(node.name)
        if reader is None or not reader.is_alive():
            reader = self._readers[node.name] = _NodeReader(self, cluster.get_redis_connection(node), node.name)
            reader.start()
        return reader

    def _drop_readers(self) -> None:
        with self._lock:
            readers, self._readers = list(self._readers.values()), {}
        for reader in readers:
            reader.stop()

    def _run(self) -> None:
        backoff = 0.05
        first = True
        while not self._stop.is_set():
            self._broken.clear()
            try:
                cluster = self.store.client()
                if not first:
                    cluster.nodes_manager.initialize()  # where the slots are now
                with self._lock:  # ready under the lock: a want() from now on sends its own request
                    for channel in self._wanted:
                        self._reader_for(channel).request(True, channel)
                    self.ready.set()
                if not first:
                    hub.recheck_all(self.alias)  # changes published meanwhile were lost
                first = False
                backoff = 0.05
                self._broken.wait()
            except Exception:  # noqa: S110 - no node reachable yet: try again after the back-off
                pass
            if self._stop.is_set():
                break
            logger.warning("pushmfa: cluster challenge listener for %r lost a node; resubscribing", self.alias)
            self.ready.clear()
            self._drop_readers()
            hub.recheck_all(self.alias)  # with the node really gone their reads fail: 503 at once
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 2.0)


class _NodeReader(threading.Thread):
    """Reads one primary's sharded pub/sub connection; the only thread that touches it."""

    def __init__(self, listener: ClusterListener, node_client: Any, name: str) -> None:
        super().__init__(name=f"pushmfa-listener-{listener.alias}-{name}", daemon=True)
        self.listener = listener
        self.pubsub = node_client.pubsub()
        self._requests: list[tuple[bool, str]] = []
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._wake = threading.Event()  # an idle reader (nothing subscribed) sleeps on it

    def request(self, subscribe: bool, channel: str) -> None:
        with self._lock:
            self._requests.append((subscribe, channel))
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        if self is not threading.current_thread():
            self.join(timeout=5)

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                with self._lock:
                    requests, self._requests = self._requests, []
                    self._wake.clear()
                if not requests and not self.pubsub.shard_channels:
                    self._wake.wait(1.0)  # idle: a request wakes it at once
                    continue
                for subscribe, channel in requests:
                    if subscribe:
                        self.pubsub.ssubscribe(channel)
                    elif channel in self.pubsub.shard_channels or channel.encode() in self.pubsub.shard_channels:
                        self.pubsub.sunsubscribe(channel)
                message = self.pubsub.get_message(timeout=self.listener.POLL)
                if message is None:
                    continue
                kind = message.get("type")
                if kind == "ssubscribe":
                    self.listener.subscribed(_text(message["channel"]))
                elif kind == "smessage":
                    decoded = Change.decode(message["data"])
                    if decoded is not None:
                        hub.notify(self.listener.alias, decoded[0], decoded[1])
        except Exception:
            if not self._halt.is_set():
                self.listener.failed()
        finally:
            try:
                self.pubsub.close()
            except Exception:  # noqa: S110 - closing a broken connection may fail too
                pass
