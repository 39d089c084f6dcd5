"""In-process registry of long-poll waiters, shared by both stores.

A waiter registers *before* it reads the challenge; whoever learns of a change (the thread that made
it, for the cache store; the one pub/sub listener thread, for the Redis store) calls
:meth:`WaiterHub.notify`, which wakes sync waiters through a ``threading.Event`` and async ones
through ``loop.call_soon_threadsafe`` on their future. Nothing here sleeps or polls.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .base import Challenge, ChallengeStore


@dataclass(frozen=True)
class Change:
    """What a state change tells waiters: enough to update their copy without a re-read."""

    status: str
    responded_at: float | None = None
    device_id: str | None = None

    def encode(self, challenge_id: str) -> str:
        responded = repr(self.responded_at) if self.responded_at is not None else ""
        return f"{challenge_id}|{self.status}|{responded}|{self.device_id or ''}"

    @classmethod
    def decode(cls, message: bytes | str) -> tuple[str, Change] | None:
        text = message.decode() if isinstance(message, bytes) else message
        parts = text.split("|")
        if len(parts) != 4:
            return None
        challenge_id, status, responded, device_id = parts
        try:
            responded_at = float(responded) if responded else None
        except ValueError:
            return None
        return challenge_id, cls(status, responded_at, device_id or None)


RECHECK = None  # a notification that says "something may have been missed: read the store again"


class Watch:
    """One waiter's registration for one challenge.

    Small on purpose: an ASGI site holds one per waiting browser (10,000 and more), so it has slots,
    and the ``threading.Event`` only a sync waiter needs is made by :meth:`wait` (an async waiter
    waits on a future of its event loop instead).
    """

    __slots__ = ("alias", "challenge_id", "store", "_lock", "_event", "_changes", "_future", "_loop")

    def __init__(self, alias: str, challenge_id: str, store: ChallengeStore) -> None:
        self.alias = alias
        self.challenge_id = challenge_id
        self.store = store
        self._lock = threading.Lock()
        self._event: threading.Event | None = None
        self._changes: list[Change | None] = []
        self._future: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # called from any thread
    def notify(self, change: Change | None) -> None:
        with self._lock:
            self._changes.append(change)
            if self._event is not None:
                self._event.set()
            future, loop = self._future, self._loop
        if future is not None and loop is not None:
            try:
                loop.call_soon_threadsafe(_set_done, future)
            except RuntimeError:  # the loop closed meanwhile: its waiter is gone
                pass

    def _drain(self) -> list[Change | None]:
        with self._lock:
            changes, self._changes = self._changes, []
            if self._event is not None:
                self._event.clear()
        return changes

    def _sync_event(self) -> threading.Event:
        """The event a sync waiter blocks on, set already when changes arrived before it existed."""
        with self._lock:
            if self._event is None:
                self._event = threading.Event()
                if self._changes:
                    self._event.set()
            return self._event

    @staticmethod
    def _deadline(current: Challenge, timeout: float) -> float:
        # A pending challenge stops being pending at the end of its window: wake then at the latest.
        return time.monotonic() + max(0.0, min(timeout, current.expires_at - time.time()))

    def _apply(self, current: Challenge, changes: list[Change | None]) -> tuple[Challenge | None, bool]:
        """Fold changes into ``current``; the bool says a re-read of the store is needed."""
        recheck = False
        for change in changes:
            if change is RECHECK:
                recheck = True
            elif current is not None:
                current = replace(
                    current,
                    status=change.status,
                    responded_at=change.responded_at if change.responded_at is not None else current.responded_at,
                    device_id=change.device_id or current.device_id,
                )
        return current, recheck

    def wait(self, current: Challenge, timeout: float) -> Challenge | None:
        """Block until ``current`` (pending) changes, its window ends, or ``timeout`` passes."""
        deadline = self._deadline(current, timeout)
        event = self._sync_event()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not event.wait(remaining):
                return current.normalized()
            updated, recheck = self._apply(current, self._drain())
            if recheck:
                updated = self.store.get(self.challenge_id)
            if updated is None or updated.status != "pending":
                return updated
            current = updated

    async def await_change(self, current: Challenge, timeout: float) -> Challenge | None:
        """:meth:`wait` without blocking the event loop."""
        from asgiref.sync import sync_to_async

        loop = asyncio.get_running_loop()
        deadline = self._deadline(current, timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return current.normalized()
            with self._lock:
                future = None if self._changes else loop.create_future()
                self._future, self._loop = future, loop
            if future is not None:
                # A timer on the same future rather than asyncio.wait_for (a second future, a callback
                # and a handle more per waiter): woken by a change or by the deadline, as the check
                # after the wait tells apart.
                timer = loop.call_later(remaining, _set_done, future)
                try:
                    await future
                finally:
                    timer.cancel()
                    with self._lock:
                        self._future = self._loop = None
            changes = self._drain()
            if not changes:  # the deadline
                return current.normalized()
            updated, recheck = self._apply(current, changes)
            if recheck:
                updated = await sync_to_async(self.store.get, thread_sensitive=False)(self.challenge_id)
            if updated is None or updated.status != "pending":
                return updated
            current = updated


def _set_done(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class WaiterHub:
    """Process-wide map (store alias, challenge id) → waiting :class:`Watch` objects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[tuple[str, str], set[Watch]] = {}

    def register(self, alias: str, challenge_id: str, store: Any) -> Watch:
        watch = Watch(alias, challenge_id, store)
        with self._lock:
            self._watches.setdefault((alias, challenge_id), set()).add(watch)
        return watch

    def unregister(self, watch: Watch) -> None:
        key = (watch.alias, watch.challenge_id)
        with self._lock:
            watches = self._watches.get(key)
            if watches is not None:
                watches.discard(watch)
                if not watches:
                    del self._watches[key]

    def notify(self, alias: str, challenge_id: str, change: Change | None) -> None:
        with self._lock:
            watches = list(self._watches.get((alias, challenge_id), ()))
        for watch in watches:
            watch.notify(change)

    def recheck_all(self, alias: str) -> None:
        """Wake every waiter of ``alias`` to re-read (notifications may have been lost)."""
        with self._lock:
            watches = [w for (a, _), ws in self._watches.items() if a == alias for w in ws]
        for watch in watches:
            watch.notify(RECHECK)

    def count(self, alias: str | None = None) -> int:
        with self._lock:
            return sum(len(ws) for (a, _), ws in self._watches.items() if alias is None or a == alias)


hub = WaiterHub()
