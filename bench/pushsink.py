"""A push backend that accepts every message and keeps only a count.

The benchmark runs the app's real delivery code (payload building, per-device fan-out); only the
provider's network call is left out, since FCM and APNs are not reachable from the machine and
their latency is not the app's. For the slow-provider scenario (``PUSHMFA_BENCH_PUSH_DELAY`` set)
each push first sleeps that many seconds, as a provider that takes that long to answer, and is then
counted in Redis (``scenarios.slow_provider.PUSHED_KEY``), where the driver process can read it.
"""
from __future__ import annotations

import os
import threading
import time

from django_pushmfa.push.backends.base import BasePushBackend

_lock = threading.Lock()
sent = 0
DELAY = os.environ.get("PUSHMFA_BENCH_PUSH_DELAY")


class PushBackend(BasePushBackend):
    def send(self, message) -> None:  # PushMessage
        global sent
        with _lock:
            sent += 1
        if DELAY is not None:
            time.sleep(float(DELAY))
            from django_redis import get_redis_connection

            from .scenarios.slow_provider import PUSHED_KEY

            get_redis_connection("default").incr(PUSHED_KEY)
