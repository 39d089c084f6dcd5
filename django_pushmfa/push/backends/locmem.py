"""A push backend that keeps messages in memory, like Django's ``locmem`` email backend.

Every sent :class:`~django_pushmfa.push.backends.base.PushMessage` is appended to the module-level
:data:`outbox` (tests read it like ``django.core.mail.outbox``; ``tests/conftest.py`` clears it),
and waiters are woken, so a phone simulator running in the same process can receive pushes as they
arrive with :func:`wait_for_message`. Nothing leaves the process.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .base import BasePushBackend, PushMessage

#: Every message sent through this backend, oldest first. Clear it with ``outbox.clear()`` (keep the
#: same list object: other modules hold a reference to it).
outbox: list[PushMessage] = []

#: The outbox keeps at most this many messages (the oldest go first), so a long-running
#: development server using this backend does not grow without bound.
MAX_OUTBOX = 1000

_arrived = threading.Condition()


class PushBackend(BasePushBackend):
    """Collects messages into :data:`outbox`. No options."""

    def send(self, message: PushMessage) -> None:
        with _arrived:
            outbox.append(message)
            if len(outbox) > MAX_OUTBOX:
                del outbox[: len(outbox) - MAX_OUTBOX]
            _arrived.notify_all()


def wait_for_message(predicate: Callable[[PushMessage], bool], timeout: float) -> PushMessage | None:
    """The first message in :data:`outbox` matching ``predicate``, waiting up to ``timeout`` seconds.

    Messages already in the outbox count, so a caller never misses one sent just before it started
    waiting; filter on something new (e.g. ``m.challenge_id not in seen``) to wait for the next one.
    Returns None at the timeout. Woken by each send, never a sleep loop.
    """
    deadline = time.monotonic() + max(0.0, timeout)
    with _arrived:
        while True:
            for message in outbox:
                if predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            _arrived.wait(remaining)


async def await_message(predicate: Callable[[PushMessage], bool], timeout: float) -> PushMessage | None:
    """:func:`wait_for_message` for async code (ASGI views): waits in a worker thread, not the loop."""
    import asyncio

    return await asyncio.to_thread(wait_for_message, predicate, timeout)
