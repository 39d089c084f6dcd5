"""Per-user exponential back-off for typed codes (TOTP and backup codes share one counter).

The first ``PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS`` failures cost nothing; after the n-th failure beyond
that the user must wait ``PUSHMFA_TOTP_FAILURE_BACKOFF_BASE * 2 ** (n - free)`` seconds (capped at
``PUSHMFA_CODE_FAILURE_BACKOFF_MAX``) before the next code is even looked at. TOTP and backup codes
share the counter so an attacker cannot double the guesses by alternating methods.

State lives in the cache named by ``PUSHMFA_CACHE_ALIAS`` (shared between workers with Redis). When that
cache cannot be reached (a Redis outage) the streak is read from the database instead — the
``mfa_failed`` SecurityEvents of typed codes since the user's last completed MFA step — so TOTP and
backup codes keep working while push is down, and the back-off still holds (it never fails open).
"""
from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Any

from django.core.cache import caches
from django.utils import timezone

from ..app_settings import app_settings
from ..exceptions import RateLimited

SCOPE = "code"
# A typed code (either method) longer than this is malformed without any work.
MAX_CODE_LENGTH = 64
# How long a failure streak is remembered after the last failure.
STREAK_TTL = 24 * 3600


def _keys(user: Any) -> tuple[str, str]:
    return f"pushmfa:codefail:n:{user.pk}", f"pushmfa:codefail:until:{user.pk}"


def _cache():  # a django cache
    return caches[app_settings.CACHE_ALIAS]


def check(user: Any) -> None:
    """Raise :class:`RateLimited` while ``user`` must wait before trying another code."""
    _, until_key = _keys(user)
    try:
        until = _cache().get(until_key)
    except Exception:  # the cache client's own errors vary by backend: use the database's record
        failures, last = _streak_from_events(user)
        until = last + backoff_seconds(failures) if failures else None
    now = time.time()
    if until is not None and float(until) > now:
        raise RateLimited(math.ceil(float(until) - now), scope=SCOPE)


def backoff_seconds(failures: int) -> int:
    """The wait imposed after ``failures`` consecutive failures (0 while still free)."""
    free = int(app_settings.CODE_FAILURE_FREE_ATTEMPTS)
    if failures < free:
        return 0
    base = float(app_settings.TOTP_FAILURE_BACKOFF_BASE)
    cap = float(app_settings.CODE_FAILURE_BACKOFF_MAX)
    exponent = min(failures - free, 32)  # 2**32 s is beyond any cap; avoids huge floats
    return int(math.ceil(min(cap, base * 2**exponent)))


def record_failure(user: Any) -> int:
    """Count one failed code; returns the wait (seconds) now imposed, 0 when none."""
    count_key, until_key = _keys(user)
    cache = _cache()
    try:
        cache.add(count_key, 0, STREAK_TTL)
        try:
            failures = cache.incr(count_key)
        except ValueError:  # expired between add() and incr()
            cache.set(count_key, 1, STREAK_TTL)
            failures = 1
        cache.touch(count_key, STREAK_TTL)
        wait = backoff_seconds(failures)
        if wait:
            cache.set(until_key, time.time() + wait, wait)
    except Exception:
        # Cache down: the caller records this failure as a SecurityEvent, which the database streak
        # (read by check()) then counts.
        failures, _last = _streak_from_events(user)
        wait = backoff_seconds(failures + 1)
    return wait


def reset(user: Any) -> None:
    """Forget the failure streak after a successful code."""
    try:
        _cache().delete_many(list(_keys(user)))
    except Exception:  # noqa: S110 - the database streak ends with the mfa_completed event that follows
        pass


def _streak_from_events(user: Any) -> tuple[int, float]:
    """``(failures, unix time of the last one)`` of typed codes since the last completed MFA step.

    The fallback when the cache is unreachable; reads the SecurityEvent log (two indexed queries).
    """
    from ..models import SecurityEvent

    since = timezone.now() - timedelta(seconds=STREAK_TTL)
    events = SecurityEvent.objects.filter(user=user, created_at__gte=since)
    completed = (
        events.filter(kind=SecurityEvent.Kind.MFA_COMPLETED)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    # "backup_codes": how events recorded before the method had one name spell it.
    code_methods = ["totp", "backup_code", "backup_codes"]
    failed = events.filter(kind=SecurityEvent.Kind.MFA_FAILED, detail__method__in=code_methods)
    if completed is not None:
        failed = failed.filter(created_at__gt=completed)
    times = list(failed.order_by("-created_at").values_list("created_at", flat=True)[:64])
    return len(times), (times[0].timestamp() if times else 0.0)
