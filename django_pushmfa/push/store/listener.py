"""The Redis store's pub/sub listener: one subscription per process (and cache alias).

Every script that changes a challenge publishes ``Change.encode`` on the store's channel; this
thread receives it and wakes the local waiters through :data:`~.waiters.hub`. It reconnects on its
own after a Redis restart or network failure, and every (re)subscription wakes all local waiters to
re-read their challenge, since messages published meanwhile were lost.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from .waiters import Change, hub

if TYPE_CHECKING:  # pragma: no cover
    from .redis import RedisChallengeStore

logger = logging.getLogger("django_pushmfa")

HEALTH_INTERVAL = 15.0  # an idle listener pings this often, to notice a connection that died silently


class Listener:
    """The one pub/sub connection of a process for a store alias; dispatches changes to waiters."""

    _instances: dict[tuple[str, str], Listener] = {}
    _guard = threading.Lock()

    def __init__(self, store: RedisChallengeStore) -> None:
        self.store = store
        self.alias = store.alias
        self.channel = store.channel
        self.pid = os.getpid()
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pushmfa-listener-{self.alias}", daemon=True)

    @classmethod
    def for_store(cls, store: RedisChallengeStore) -> Listener:
        key = (store.alias, store.channel)
        with cls._guard:
            listener = cls._instances.get(key)
            # A forked worker inherits the dict but not the thread: start its own.
            if listener is None or listener.pid != os.getpid() or not listener._thread.is_alive():
                listener = cls._instances[key] = cls(store)
                listener._thread.start()
        return listener

    @classmethod
    def stop_all(cls) -> None:
        """Stop every listener of this process (tests, shutdown)."""
        listeners: list[Listener] = []
        with cls._guard:
            for klass in (cls, *cls.__subclasses__()):  # the Cluster store's listeners too
                listeners += klass._instances.values()
                klass._instances.clear()
        for listener in listeners:
            listener.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        backoff = 0.05
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self.store.client().pubsub()
                pubsub.subscribe(self.channel)
                last_traffic = time.monotonic()
                while not self._stop.is_set():
                    # A blocking read; the 1 s bound only lets stop() end the thread promptly.
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        if time.monotonic() - last_traffic >= HEALTH_INTERVAL:
                            pubsub.ping()  # raises when the connection died without telling us
                            last_traffic = time.monotonic()
                        continue
                    last_traffic = time.monotonic()
                    kind = message.get("type")
                    if kind == "subscribe":
                        backoff = 0.05
                        self.ready.set()
                        hub.recheck_all(self.alias)
                    elif kind == "message":
                        decoded = Change.decode(message["data"])
                        if decoded is not None:
                            hub.notify(self.alias, decoded[0], decoded[1])
            except Exception:  # any failure: drop the connection, wake waiters later on resubscribe
                if not self._stop.is_set():
                    logger.warning("pushmfa: challenge listener for %r lost Redis; reconnecting", self.alias)
                self.ready.clear()
                # Waiters re-read now: with Redis really gone their read fails and the browser gets
                # 503 at once, instead of a stale "pending" when its wait runs out.
                hub.recheck_all(self.alias)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:  # noqa: S110 - closing a broken connection may fail too
                        pass
            # Back off before reconnecting (an Event wait, so stop() ends it at once).
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 2.0)
