"""A push backend that accepts every message and keeps only a count.

The benchmark runs the app's real delivery code (payload building, per-device fan-out); only the
provider's network call is left out, since FCM and APNs are not reachable from the machine and
their latency is not the app's.
"""
from __future__ import annotations

import threading

from django_pushmfa.push.backends.base import BasePushBackend

_lock = threading.Lock()
sent = 0


class PushBackend(BasePushBackend):
    def send(self, message) -> None:  # PushMessage
        global sent
        with _lock:
            sent += 1
