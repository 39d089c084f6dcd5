"""A push provider stand-in whose outbox other processes can read (FCM and APNs are unreachable here).

:class:`RedisOutboxBackend` appends every push to a Redis list (``OPTIONS["URL"]``, ``["KEY"]``) as
JSON, waits ``OPTIONS["DELAY"]`` seconds first when set (a slow provider), and answers tokens that
start with ``dead-`` the way FCM answers an unregistered token. A worker process sends through it; the
test reads the list.
"""
from __future__ import annotations

import json
import os
import threading
import time

from django_pushmfa.exceptions import PushTokenUnregistered
from django_pushmfa.push.backends.base import BasePushBackend, PushMessage


class RedisOutboxBackend(BasePushBackend):
    def send(self, message: PushMessage) -> None:
        import redis

        delay = float(self.options.get("DELAY") or 0)
        if delay:
            time.sleep(delay)
        client = redis.Redis.from_url(self.options["URL"])
        try:
            client.rpush(
                self.options["KEY"],
                json.dumps({"challenge_id": message.challenge_id, "token_hint": message.token_hint,
                            "title": message.title, "data": message.data, "pid": os.getpid()}),
            )
        finally:
            client.close()
        if message.device_token.startswith("dead-"):
            raise PushTokenUnregistered("token unregistered", provider_code="UNREGISTERED", status=404)


class GatedBackend(BasePushBackend):
    """A provider that answers only once the test opens :data:`gate` (in this process): while it is
    closed, every push hangs as at a provider that does not answer. Sent pushes land in :data:`sent`."""

    def send(self, message: PushMessage) -> None:
        if not gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        with _lock:
            sent.append(message)
        if message.device_token.startswith("dead-"):
            raise PushTokenUnregistered("token unregistered", provider_code="UNREGISTERED", status=404)


gate = threading.Event()
sent: list[PushMessage] = []
_lock = threading.Lock()


def read_outbox(url: str, key: str) -> list[dict]:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return [json.loads(item) for item in client.lrange(key, 0, -1)]
    finally:
        client.close()
