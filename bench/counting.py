"""Deterministic round-trip counts of a push login, measured in-process by counting.

- SQL: Django's ``CaptureQueriesContext`` per request; queries on the session table are reported
  apart (they belong to the site's session engine, not to the app: with a cache-backed session
  engine they are Redis commands instead).
- Redis: every command this process sends, counted in redis-py's connection class (all threads, the
  app's pub/sub listener included); a pipeline counts its commands and one round trip.

Used by the benchmark (``counts`` scenario) and by ``tests/bench_counts`` (which enforce the counts).
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

SESSION_TABLE = "django_session"
# Transaction control: a round trip each, but no work of its own (savepoints inside tests' atomic).
TRANSACTION_PREFIXES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@dataclass
class RedisCounts:
    commands: int = 0
    round_trips: int = 0
    names: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"commands": self.commands, "round_trips": self.round_trips, "names": dict(self.names)}


_lock = threading.Lock()
_active: list[RedisCounts] = []
_patched = False


def _name(args: tuple) -> str:
    if not args:
        return "?"
    first = args[0]
    name = first.decode() if isinstance(first, bytes) else str(first)
    return name.upper().split()[0] if name else "?"


def _install() -> None:
    """Wrap redis-py's send paths once; they only count while a :func:`count_redis` block is open."""
    global _patched
    if _patched:
        return
    from redis.connection import AbstractConnection

    send_command = AbstractConnection.send_command
    pack_commands = AbstractConnection.pack_commands

    def counted_send_command(self, *args, **kwargs):
        if _active:
            with _lock:
                for counts in _active:
                    counts.commands += 1
                    counts.round_trips += 1
                    counts.names[_name(args)] += 1
        return send_command(self, *args, **kwargs)

    def counted_pack_commands(self, commands):
        commands = list(commands)
        if _active:
            with _lock:
                for counts in _active:
                    counts.commands += len(commands)
                    counts.round_trips += 1
                    for cmd in commands:
                        counts.names[_name(tuple(cmd))] += 1
        return pack_commands(self, commands)

    AbstractConnection.send_command = counted_send_command
    AbstractConnection.pack_commands = counted_pack_commands
    _patched = True


@contextmanager
def count_redis() -> Iterator[RedisCounts]:
    """Count the Redis commands this process sends inside the block."""
    _install()
    counts = RedisCounts()
    with _lock:
        _active.append(counts)
    try:
        yield counts
    finally:
        with _lock:
            _active.remove(counts)


@dataclass
class StepCounts:
    step: str
    status: int
    sql: int
    sql_session: int
    sql_transaction: int
    redis: RedisCounts
    sql_statements: list[str]

    @property
    def sql_app(self) -> int:
        """Statements of the app: neither the session engine's nor transaction control."""
        return self.sql - self.sql_session - self.sql_transaction

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "sql": self.sql, "sql_session": self.sql_session,
                "sql_transaction": self.sql_transaction, "sql_app": self.sql_app,
                "redis": self.redis.as_dict(), "sql_statements": self.sql_statements}


def measure(step: str, call: Callable[[], Any]) -> tuple[StepCounts, Any]:
    """Run ``call()`` (one request through a test client) counting its SQL queries and Redis commands."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, count_redis() as redis_counts:
        result = call()
    statements = [q["sql"] for q in queries.captured_queries]
    session = sum(1 for s in statements if SESSION_TABLE in s)
    transaction = sum(1 for s in statements if s.lstrip().upper().startswith(TRANSACTION_PREFIXES))
    status = getattr(result, "status_code", getattr(result, "status", 0))
    counts = StepCounts(
        step, status, len(statements), session, transaction, redis_counts, [s[:160] for s in statements]
    )
    return counts, result


def push_login_counts(browser: Any, phone: Any, *, wait: int = 0) -> dict[str, StepCounts]:
    """Counts of one complete push login, step by step.

    ``browser``: a Django test ``Client`` whose session is "MFA pending" (password step done).
    ``phone``: a paired :class:`~django_pushmfa.testing.phone.PhoneClient` of the same user.
    Steps: ``start`` (POST api/push/), ``poll_pending`` (a poll before the answer, ``wait`` seconds),
    ``device_fetch``, ``device_respond``, ``poll`` (the approved poll that logs in) and
    ``poll_consumed`` (a later poll of the same browser).
    """
    from django.urls import reverse

    from django_pushmfa.testing.phone import PhoneAPIError

    steps: dict[str, StepCounts] = {}
    start_url = reverse("pushmfa:api-push-start")
    steps["start"], resp = measure("start", lambda: browser.post(start_url, {}, content_type="application/json"))
    if resp.status_code != 201:
        raise AssertionError(f"start answered {resp.status_code}: {resp.content[:200]!r}")
    data = resp.json()
    poll_url = data["poll_url"]
    pending_url = poll_url + (f"?wait={wait}" if wait else "")
    steps["poll_pending"], resp = measure("poll_pending", lambda: browser.get(pending_url))
    if resp.status_code != 200 or resp.json()["status"] != "pending":
        raise AssertionError(f"pending poll answered {resp.status_code}: {resp.content[:200]!r}")

    def phone_step(fn: Callable[[], Any]) -> Callable[[], Any]:
        def call() -> Any:
            try:
                return _Status(200, fn())
            except PhoneAPIError as exc:
                return _Status(exc.status, exc.detail)
        return call

    cid = data["challenge_id"]
    steps["device_fetch"], res = measure("device_fetch", phone_step(lambda: phone.challenge(cid)))
    if res.status != 200:
        raise AssertionError(f"device fetch answered {res.status}: {res.body}")
    steps["device_respond"], res = measure(
        "device_respond",
        phone_step(lambda: phone.respond(cid, "approve", selected_number=data["display_number"])),
    )
    if res.status != 200:
        raise AssertionError(f"device respond answered {res.status}: {res.body}")
    steps["poll"], resp = measure("poll", lambda: browser.get(poll_url))
    if resp.status_code != 200 or resp.json()["status"] != "approved":
        raise AssertionError(f"approved poll answered {resp.status_code}: {resp.content[:200]!r}")
    steps["poll_consumed"], resp = measure("poll_consumed", lambda: browser.get(poll_url))
    return steps


@dataclass
class _Status:
    status: int
    body: Any


def login_total(steps: dict[str, StepCounts]) -> dict[str, int]:
    """Totals of the four requests of a complete login (start, device fetch, respond, approved poll)."""
    keys = ("start", "device_fetch", "device_respond", "poll")
    return {
        "redis_commands": sum(steps[k].redis.commands for k in keys),
        "redis_round_trips": sum(steps[k].redis.round_trips for k in keys),
        "sql": sum(steps[k].sql for k in keys),
        "sql_app": sum(steps[k].sql_app for k in keys),
    }
