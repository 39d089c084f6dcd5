"""Shared pieces of the HTTP scenarios: virtual users and a bounded worker pool."""
from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..seed import BrowserSession, Phone, pending_sessions


@dataclass
class VirtualUser:
    """One user with a paired phone and fresh "MFA pending" sessions, one per login to run.

    A worker owns one virtual user, so two concurrent logins never share a user (a new challenge
    supersedes the user's pending one, by design).
    """

    phone: Phone
    sessions: collections.deque[BrowserSession] = field(default_factory=collections.deque)

    def next_session(self) -> BrowserSession:
        return self.sessions.popleft()


def make_virtual_users(phones: Sequence[Phone], sessions_each: int) -> list[VirtualUser]:
    """Virtual users for ``phones``, each with ``sessions_each`` new pending sessions (bulk-seeded)."""
    user_ids = [p.user_id for p in phones for _ in range(sessions_each)]
    sessions = pending_sessions(user_ids)
    vus = []
    for i, phone in enumerate(phones):
        vus.append(VirtualUser(phone, collections.deque(sessions[i * sessions_each:(i + 1) * sessions_each])))
    return vus


async def run_pool(
    jobs: Sequence[Any],
    vus: Sequence[VirtualUser],
    fn: Callable[[VirtualUser, Any], Awaitable[Any]],
    *,
    time_limit: float = 300.0,
) -> tuple[list[Any], list[str], float]:
    """Run ``fn(vu, job)`` for every job with one worker per virtual user. Bounded by ``time_limit``.

    Returns (results, errors, elapsed seconds). An error never stops the other jobs.
    """
    queue: collections.deque[Any] = collections.deque(jobs)
    results: list[Any] = []
    errors: list[str] = []
    deadline = time.monotonic() + time_limit

    async def worker(vu: VirtualUser) -> None:
        while queue and time.monotonic() < deadline:
            job = queue.popleft()
            try:
                results.append(await fn(vu, job))
            except Exception as exc:  # counted and reported, never fatal
                errors.append(f"{type(exc).__name__}: {exc}"[:300])

    started = time.perf_counter()
    await asyncio.gather(*(worker(vu) for vu in vus))
    return results, errors, time.perf_counter() - started


def error_summary(errors: Sequence[str], limit: int = 5) -> dict[str, Any]:
    counts = collections.Counter(e.split(":", 1)[0] for e in errors)
    return {"count": len(errors), "examples": list(dict.fromkeys(errors))[:limit], "kinds": dict(counts)}
