"""Getting a challenge's pushes off the request path (``PUSHMFA_PUSH_DELIVERY``).

:func:`dispatch` is what the challenge flow calls once the challenge is stored; it returns at once and
never raises. The pushes then go out

- ``"executor"`` (the default): from a bounded pool of threads in this process
  (``PUSHMFA_DELIVERY_THREADS`` threads, ``PUSHMFA_DELIVERY_QUEUE_SIZE`` challenges waiting). A full
  queue drops the push with a warning: the challenge exists, the phone still finds it by polling;
- ``"task"``: from a worker process, through Django's Tasks API (``delivery_task``);
- ``"inline"``: inside the request, as v1 did (the request waits for the providers).

Whichever way, :func:`~.delivery.send_challenge` does the sending and records what the providers
said (dead tokens: ``push_token_dead`` SecurityEvents; errors: logged).
"""
from __future__ import annotations

import logging
import os
import queue
import threading
from typing import TYPE_CHECKING

from django.db import close_old_connections
from django.utils import translation

from django_pushmfa.app_settings import app_settings

from .delivery import send_challenge

if TYPE_CHECKING:  # pragma: no cover
    from django_pushmfa.models import PushDevice
    from django_pushmfa.push.store.base import Challenge

logger = logging.getLogger("django_pushmfa.push")

MODES = ("executor", "task", "inline")


def dispatch(challenge: Challenge, devices: list[PushDevice]) -> None:
    """Send ``challenge``'s pushes to ``devices`` the configured way; returns at once, never raises."""
    try:
        mode = app_settings.PUSH_DELIVERY
        if mode == "inline":
            send_challenge(challenge, devices)
        elif mode == "task":
            _enqueue_or_send_here(challenge, devices)
        else:
            DeliveryExecutor.get().submit(challenge, devices)
    except Exception:  # the challenge exists whatever happens here: the phone can still poll
        logger.exception("pushmfa: could not hand over the pushes for challenge %s", challenge.id)


def _enqueue_or_send_here(challenge: Challenge, devices: list[PushDevice]) -> None:
    """Enqueue the delivery task; when the task backend refuses, send from this process instead."""
    from .delivery_task import enqueue

    try:
        enqueue(challenge, devices)
    except Exception as exc:
        logger.warning(
            "pushmfa: could not enqueue the pushes for challenge %s (%s); sending them from this process",
            challenge.id,
            type(exc).__name__,
        )
        DeliveryExecutor.get().submit(challenge, devices)


class DeliveryExecutor:
    """A fixed number of daemon threads draining a bounded queue of challenges to push.

    Unlike ``ThreadPoolExecutor`` the queue has a bound, so a provider that hangs cannot grow memory
    without limit: past ``PUSHMFA_DELIVERY_QUEUE_SIZE`` waiting challenges, :meth:`submit` drops the
    push (logged). One per process; a forked worker starts its own.
    """

    _instance: DeliveryExecutor | None = None
    _guard = threading.Lock()

    def __init__(self, threads: int, size: int) -> None:
        self.pid = os.getpid()
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, size))
        self.dropped = 0
        self.threads = [
            threading.Thread(target=self._work, name=f"pushmfa-delivery-{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for thread in self.threads:
            thread.start()

    @classmethod
    def get(cls) -> DeliveryExecutor:
        with cls._guard:
            executor = cls._instance
            if executor is None or executor.pid != os.getpid():
                executor = cls._instance = cls(app_settings.DELIVERY_THREADS, app_settings.DELIVERY_QUEUE_SIZE)
        return executor

    def submit(self, challenge: Challenge, devices: list[PushDevice]) -> bool:
        """Queue the pushes (False when the queue is full: dropped, logged)."""
        try:
            self.queue.put_nowait((challenge, devices, translation.get_language()))
        except queue.Full:
            self.dropped += 1
            logger.warning(
                "pushmfa: push delivery queue full (%d waiting); challenge %s was not pushed, the phone can "
                "still fetch it",
                self.queue.maxsize,
                challenge.id,
            )
            return False
        return True

    def join(self, timeout: float) -> bool:
        """Wait until every queued push went out (tests, shutdown). True when the queue drained."""
        done = threading.Event()

        def wait() -> None:
            self.queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def _work(self) -> None:
        while True:
            challenge, devices, language = self.queue.get()
            try:
                with translation.override(language):
                    send_challenge(challenge, devices)
            except Exception:  # send_challenge never raises; a bug must not kill the thread
                logger.exception("pushmfa: push delivery failed for challenge %s", challenge.id)
            finally:
                close_old_connections()  # this thread's DB connection obeys CONN_MAX_AGE
                self.queue.task_done()
