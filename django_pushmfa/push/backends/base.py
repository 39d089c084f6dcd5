"""The push backend contract: one :class:`PushMessage` per device, one backend class per provider.

A backend turns a :class:`PushMessage` into one provider request and reports failure only through
the app's own exception types (``django_pushmfa.exceptions``):

- :class:`~django_pushmfa.exceptions.PushTokenUnregistered` — the provider says the token is gone
  (the caller marks the device dead);
- :class:`~django_pushmfa.exceptions.PushTemporaryError` — outage, timeout, 5xx, quota;
- :class:`~django_pushmfa.exceptions.PushConfigurationError` — bad credentials or options
  (:class:`~django_pushmfa.exceptions.MissingProviderLibrary` when the provider's extra is missing);
- :class:`~django_pushmfa.exceptions.PushError` — anything else the provider refused.

Each carries the provider's own ``provider_code`` (e.g. ``"UNREGISTERED"``, ``"BadDeviceToken"``)
and the HTTP ``status`` when there was one. Backends never touch the database: the delivery layer
(``push.internal.delivery``) reacts to the errors in the calling thread.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any

from ...app_settings import app_settings
from ...exceptions import MissingProviderLibrary, PushError, PushTemporaryError

logger = logging.getLogger("django_pushmfa.push")


def token_hint(token: str) -> str:
    """A short, non-reversible label for a device token, safe for logs (never log the token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:10]


@dataclass
class PushMessage:
    """One notification to one device.

    It carries no secret and no answer: ``data`` is ``{"type": "pushmfa.challenge",
    "challenge_id": ...}`` for challenges, never the display number or the choices — the phone
    fetches those with a signed request. ``ttl`` is in seconds (the provider drops the push after
    it); ``collapse_id`` lets a newer push replace an older one on the device.
    """

    device_token: str = field(repr=False)
    platform: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    ttl: int = 120
    collapse_id: str | None = None
    priority: str = "high"  # "high" or "normal"
    challenge_id: str | None = None

    @property
    def token_hint(self) -> str:
        return token_hint(self.device_token)

    def __repr__(self) -> str:  # the dataclass repr would hide the token entirely; show its hint
        return (
            f"PushMessage(platform={self.platform!r}, token={self.token_hint}, title={self.title!r}, "
            f"body={self.body!r}, data={self.data!r}, ttl={self.ttl}, collapse_id={self.collapse_id!r}, "
            f"priority={self.priority!r})"
        )


@dataclass
class SendResult:
    """The outcome of one message in :meth:`BasePushBackend.send_many`: ``error`` is None on success."""

    message: PushMessage
    error: PushError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class BasePushBackend:
    """Base class of every push backend.

    ``options`` is the ``OPTIONS`` dict of this platform's ``PUSHMFA_PUSH_BACKENDS`` entry. A
    backend validates its options in ``__init__`` (raising ``PushConfigurationError``) but must not
    do network I/O there: the system check instantiates backends at startup.

    Subclasses implement :meth:`send`. :meth:`send_many` runs :meth:`send` concurrently on a
    thread pool owned by the instance (reused across calls, so per-thread HTTP sessions and
    provider connections are reused too); backends with native concurrency may override it.
    """

    #: ``(import name, extra)`` of the optional provider library this backend needs, if any.
    required_library: tuple[str, str] | None = None
    #: Worker threads of the :meth:`send_many` pool (override with ``OPTIONS["MAX_WORKERS"]``).
    max_workers: int = 8

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})
        self.max_workers = int(self.options.get("MAX_WORKERS", self.max_workers))
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid: int | None = None
        self._pool_lock = threading.Lock()

    # --- the contract ------------------------------------------------------------------------
    @property
    def timeout(self) -> float:
        """Seconds one provider request may take (``OPTIONS["TIMEOUT"]``, else PUSHMFA_PUSH_TIMEOUT)."""
        return float(self.options.get("TIMEOUT", app_settings.PUSH_TIMEOUT))

    def send(self, message: PushMessage) -> None:
        """Deliver ``message`` to the provider; return on acceptance, raise a ``PushError`` otherwise."""
        raise NotImplementedError

    def send_many(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """Send every message concurrently; never raises. Results are in the order of ``messages``.

        The whole batch is bounded by :attr:`timeout` (plus a second for scheduling): a send still
        running then is reported as ``PushTemporaryError(provider_code="timeout")``.
        """
        messages = list(messages)
        if not messages:
            return []
        if len(messages) == 1:
            return [self._send_one(messages[0])]
        pool = self._executor()
        futures: list[Future[SendResult]] = [pool.submit(self._send_one, m) for m in messages]
        wait_futures(futures, timeout=self.timeout + 1)
        results = []
        for message, future in zip(messages, futures, strict=True):
            try:
                results.append(future.result(timeout=0))
            except FutureTimeoutError:
                future.cancel()
                error = PushTemporaryError("push provider did not answer in time", provider_code="timeout")
                results.append(SendResult(message, error))
        return results

    def close(self) -> None:
        """Release threads and connections. The backend can still be used afterwards (they reopen)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    @classmethod
    def check_library(cls) -> MissingProviderLibrary | None:
        """The error to report when :attr:`required_library` cannot be imported, else None."""
        if cls.required_library is None:
            return None
        library, extra = cls.required_library
        try:
            __import__(library)
        except ImportError:
            return MissingProviderLibrary(library, extra)
        return None

    # --- helpers -----------------------------------------------------------------------------
    def _send_one(self, message: PushMessage) -> SendResult:
        try:
            self.send(message)
        except PushError as exc:
            return SendResult(message, exc)
        except Exception as exc:  # a backend bug must not take the batch (or the login) down
            logger.exception("pushmfa: push backend %s crashed", type(self).__name__)
            return SendResult(message, PushError(f"backend error: {type(exc).__name__}", provider_code="crash"))
        return SendResult(message)

    def _executor(self) -> ThreadPoolExecutor:
        # A pool created before a fork (gunicorn --preload) has no threads in the child: make a new one.
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="pushmfa-push")
                self._pool_pid = os.getpid()
            return self._pool
