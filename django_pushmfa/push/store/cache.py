"""The challenge store on any Django cache (local memory for development).

Each read-modify-write runs under a process-wide lock, so it is atomic *within one process*; with
several worker processes use the Redis store (system check ``pushmfa.W001`` warns about a
process-local cache). Waiters are woken in-process by the thread that made the change.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.cache import caches

from ...app_settings import app_settings
from ...exceptions import ChallengeStoreUnavailable, PushSuspended, RateLimited
from .base import PENDING, Challenge, ChallengeStore, RateLimit, Resolution, SuspensionPolicy
from .waiters import Change, hub

T = TypeVar("T")
_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


def _lock_for(alias: str) -> threading.RLock:
    with _locks_guard:
        return _locks.setdefault(alias, threading.RLock())


class CacheChallengeStore(ChallengeStore):
    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self._lock = _lock_for(alias)

    @property
    def cache(self) -> Any:
        return caches[self.alias]

    # --- low level -------------------------------------------------------------------------------
    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # any cache backend error: fail closed
            raise ChallengeStoreUnavailable(f"challenge cache {self.alias!r} failed: {type(exc).__name__}") from exc

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        with self._lock:
            yield

    def _get(self, key: str) -> Any:
        return self._call(self.cache.get, key)

    def _set(self, key: str, value: Any, until: float, now: float) -> None:
        self._call(self.cache.set, key, value, max(1, math.ceil(until - now)))

    def _delete(self, key: str) -> None:
        self._call(self.cache.delete, key)

    @staticmethod
    def _ckey(challenge_id: str) -> str:
        return f"pushmfa:c:{challenge_id}"

    @staticmethod
    def _ukey(user_id: str) -> str:
        return f"pushmfa:u:{user_id}"

    @staticmethod
    def _decode(data: Any, now: float) -> Challenge | None:
        if not isinstance(data, dict):
            return None
        fields = {k: v for k, v in data.items() if k != "keep_until"}
        return Challenge(**fields).normalized(now)

    def _counter_hit(self, key: str, window: int, now: float) -> tuple[int, float]:
        """Fixed window: (count after this hit, unix time of reset). Call under the lock."""
        state = self._get(key)
        if not isinstance(state, dict) or state.get("reset", 0) <= now:
            state = {"n": 0, "reset": now + window}
        state["n"] += 1
        self._set(key, state, state["reset"], now)
        return state["n"], state["reset"]

    # --- challenges ------------------------------------------------------------------------------
    def create(
        self, challenge: Challenge, *, limits: Sequence[RateLimit] = (), suspension_of: str | None = None
    ) -> Challenge | None:
        now = time.time()
        with self._atomic():
            if suspension_of is not None:
                until = self._get(f"pushmfa:sus:{suspension_of}")
                if isinstance(until, int | float) and until > now:
                    raise PushSuspended(math.ceil(until - now))
            for limit in limits:
                count, reset = self._counter_hit(f"pushmfa:rl:{limit.scope}:{limit.key}", limit.window, now)
                if count > limit.limit:
                    exc = RateLimited(math.ceil(reset - now), limit.scope)
                    exc.first_in_window = count == limit.limit + 1
                    raise exc
            superseded = None
            previous_id = self._get(self._ukey(challenge.user_id))
            if previous_id:
                previous = self._get(self._ckey(previous_id))
                if isinstance(previous, dict) and previous.get("status") == PENDING:
                    previous["status"] = "expired"
                    self._set(self._ckey(previous_id), previous, previous["keep_until"], now)
                    superseded = self._decode(previous, now)
            keep_until = challenge.expires_at + app_settings.CHALLENGE_GRACE
            self._set(self._ckey(challenge.id), {**challenge.as_dict(), "keep_until": keep_until}, keep_until, now)
            self._set(self._ukey(challenge.user_id), challenge.id, keep_until, now)
        if superseded is not None:
            hub.notify(self.alias, superseded.id, Change("expired"))
        return superseded

    def get(self, challenge_id: str) -> Challenge | None:
        return self._decode(self._get(self._ckey(challenge_id)), time.time())

    def resolve(
        self,
        challenge_id: str,
        from_status: str,
        to_status: str,
        *,
        penalty: str | None = None,
        suspension: SuspensionPolicy | None = None,
        reset_denials: bool = False,
        **fields: Any,
    ) -> Resolution:
        now = time.time()
        key = self._ckey(challenge_id)
        suspended_until = None
        with self._atomic():
            data = self._get(key)
            if not isinstance(data, dict):
                return Resolution(False, None)
            status = data["status"]
            lapsed = status == PENDING and now >= data["expires_at"]
            if status != from_status or (lapsed and to_status != "expired"):
                return Resolution(False, self._decode(data, now))
            data["status"] = to_status
            for name in ("responded_at", "device_id"):
                if name in fields:
                    data[name] = fields[name]
            # Expiry only moves forward: an answer keeps the record readable for the grace period.
            data["keep_until"] = max(data["keep_until"], now + app_settings.CHALLENGE_GRACE)
            self._set(key, data, data["keep_until"], now)
            if suspension is not None:
                suspended_until = self._apply_penalty(suspension, penalty, reset_denials, now)
        hub.notify(self.alias, challenge_id, Change(to_status, data.get("responded_at"), data.get("device_id")))
        return Resolution(True, self._decode(data, now), suspended_until)

    def _apply_penalty(self, policy: SuspensionPolicy, penalty: str | None, reset: bool, now: float) -> float | None:
        uid = policy.user_id
        if reset:
            self._delete(f"pushmfa:den:{uid}")
        if penalty not in ("denial", "report"):
            return None
        limit = policy.denial_limit if penalty == "denial" else policy.report_limit
        count, _ = self._counter_hit(f"pushmfa:{'den' if penalty == 'denial' else 'rep'}:{uid}", policy.window, now)
        if limit <= 0 or count < limit:
            return None
        # Start a new run after a suspension; report the suspension only if it is a new one.
        self._delete(f"pushmfa:den:{uid}")
        self._delete(f"pushmfa:rep:{uid}")
        current = self._get(f"pushmfa:sus:{uid}")
        until = now + policy.seconds
        if isinstance(current, int | float) and current > now:
            return None
        self._set(f"pushmfa:sus:{uid}", until, until, now)
        return until

    def latest_for_user(self, user_id: str) -> Challenge | None:
        challenge_id = self._get(self._ukey(user_id))
        return self.get(challenge_id) if challenge_id else None

    # --- fatigue -----------------------------------------------------------------------------------
    def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.time()
        with self._atomic():
            count, reset = self._counter_hit(f"pushmfa:hit:{key}", window, now)
        return count, math.ceil(reset - now)

    def hits(self, key: str) -> int:
        state = self._get(f"pushmfa:hit:{key}")
        if not isinstance(state, dict) or state.get("reset", 0) <= time.time():
            return 0
        return int(state["n"])

    def suspension_remaining(self, user_id: str) -> int:
        until = self._get(f"pushmfa:sus:{user_id}")
        now = time.time()
        return math.ceil(until - now) if isinstance(until, int | float) and until > now else 0

    def lift_suspension(self, user_id: str) -> bool:
        with self._atomic():
            active = self.suspension_remaining(user_id) > 0
            for prefix in ("sus", "den", "rep"):
                self._delete(f"pushmfa:{prefix}:{user_id}")
        return active
