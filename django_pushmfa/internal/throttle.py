"""Per-user exponential back-off for typed codes (TOTP and backup codes share one counter).

The first ``PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS`` attempts cost nothing; after the n-th beyond that
the user must wait ``PUSHMFA_TOTP_FAILURE_BACKOFF_BASE * 2 ** (n - free)`` seconds (capped at
``PUSHMFA_CODE_FAILURE_BACKOFF_MAX``) before the next code is even looked at. TOTP and backup codes
share the counter so an attacker cannot double the guesses by alternating methods.

Increment, then verify: :func:`check` counts the attempt *before* the caller looks at the code, in
one atomic step (a Lua script on Redis; a lock around a verified write on other caches), and
:func:`reset` forgets the streak after a good code. So N parallel guesses get at most the allowed
number of codes looked at, and an attempt whose request dies counts as a failure.

When the cache raises, or silently answers nothing (django-redis ``IGNORE_EXCEPTIONS``), the
attempt is counted in the database instead, under a lock of the user's row: a ``mfa_failed``
SecurityEvent with ``stage="attempt"``, resolved by :func:`record_failure` / :func:`reset`. The
streak there is the typed-code failures since the user's last completed MFA step — so TOTP and
backup codes keep working while Redis is down, and the back-off never fails open.

After ``PUSHMFA_CODE_FAILURE_LIMIT`` consecutive failed codes (NIST SP 800-63B: at most 100) typed
codes are locked (``codes_locked`` event, alert email) until the user completes an MFA step with
another method or staff reset their MFA.
"""
from __future__ import annotations

import math
import secrets
import threading
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from ..app_settings import app_settings
from ..exceptions import CodesLocked, RateLimited
from . import redis_client

SCOPE = "code"
# A typed code (either method) longer than this is malformed without any work.
MAX_CODE_LENGTH = 64
# How long a failure streak is remembered after the last attempt.
STREAK_TTL = 24 * 3600
# "backup_codes": how events recorded before the method had one name spell it.
# What counts in the streak: typed codes, and the password a user without MFA re-authenticates with.
TYPED_METHODS = ["totp", "backup_code", "backup_codes", "password"]
ATTEMPT = "attempt"

# KEYS[1]: the streak hash {n: attempts counted, t: unix time of the last}. ARGV: now, free, base,
# cap, ttl. Returns {1, n} when the attempt is counted, {0, seconds to wait} when it must wait.
RESERVE_SCRIPT = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local t = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local now, free = tonumber(ARGV[1]), tonumber(ARGV[2])
if n >= free then
  local wait = t + math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ math.min(n - free, 32)) - now
  if wait > 0 then return {0, tostring(wait)} end
end
redis.call('HSET', KEYS[1], 'n', n + 1, 't', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1, n + 1}
"""
_script: Any = None
_local_lock = threading.Lock()


# Set on the user instance check() counted an attempt for in the database (the cache was unusable).
DB_ATTEMPT_ATTR = "_pushmfa_code_attempt_in_db"


class CacheUnusable(Exception):
    """The cache raised or answered nothing: count in the database."""


def _key(user: Any) -> str:
    return f"pushmfa:codefail:{user.pk}"


def _alias() -> str:
    return app_settings.CACHE_ALIAS


def check(user: Any) -> None:
    """Count one code attempt of ``user`` before the code is looked at.

    Raises :class:`CodesLocked` once typed codes are locked, :class:`RateLimited` while ``user``
    must wait (a refused attempt is not counted).
    """
    if is_locked(user):
        raise CodesLocked()
    try:
        counted, value = _reserve_in_cache(user)
    except CacheUnusable:
        counted, value = _reserve_in_database(user)
        # The outcome must resolve that row (record_failure / reset); a cache-counted attempt has none.
        setattr(user, DB_ATTEMPT_ATTR, counted)
    if not counted:
        raise RateLimited(math.ceil(value), scope=SCOPE)


def backoff_seconds(failures: int) -> int:
    """The wait imposed after ``failures`` consecutive failures (0 while still free)."""
    free = int(app_settings.CODE_FAILURE_FREE_ATTEMPTS)
    if failures < free:
        return 0
    base = float(app_settings.TOTP_FAILURE_BACKOFF_BASE)
    cap = float(app_settings.CODE_FAILURE_BACKOFF_MAX)
    exponent = min(failures - free, 32)  # 2**32 s is beyond any cap; avoids huge floats
    return int(math.ceil(min(cap, base * 2**exponent)))


def record_failure(user: Any, request: Any = None, **detail: Any) -> int:
    """The attempt :func:`check` counted failed: records its ``mfa_failed`` event (``detail``: the
    method and stage) and returns the wait (seconds) now imposed, 0 when none.

    Locks typed codes when this failure reaches ``PUSHMFA_CODE_FAILURE_LIMIT`` consecutive ones.
    """
    from ..models import SecurityEvent
    from ..services import record_event

    failures = consecutive_failures(user) + 1
    wait = backoff_seconds(failures)
    # One transaction: a database-counted attempt is never seen resolved without its failure.
    with transaction.atomic(using=router.db_for_write(SecurityEvent)):
        _resolve_database_attempt(user, "failed")
        record_event(user, SecurityEvent.Kind.MFA_FAILED, request=request, **detail, backoff=wait)
    limit = int(app_settings.CODE_FAILURE_LIMIT or 0)
    if limit and failures >= limit and not is_locked(user):
        _lock(user, failures, request)
    return wait


def reset(user: Any) -> None:
    """Forget the failure streak after a good code."""
    _resolve_database_attempt(user, "passed")
    try:
        if redis_client.is_redis_alias(_alias()):
            redis_client.raw_client(_alias()).delete(_redis_key(user))
        else:
            caches[_alias()].delete(_key(user))
    except Exception:  # noqa: S110 - the database streak ends with the mfa_completed event that follows
        pass


# --- the cache ------------------------------------------------------------------------------------
def _params() -> list[Any]:
    return [
        int(app_settings.CODE_FAILURE_FREE_ATTEMPTS),
        float(app_settings.TOTP_FAILURE_BACKOFF_BASE),
        float(app_settings.CODE_FAILURE_BACKOFF_MAX),
    ]


def _redis_key(user: Any) -> str:
    return str(caches[_alias()].make_key(_key(user)))


def _reserve_in_cache(user: Any) -> tuple[bool, float]:
    """``(True, n)`` when the attempt is counted, ``(False, wait)`` when it must wait."""
    alias = _alias()
    if redis_client.is_redis_alias(alias):
        global _script
        try:
            if _script is None:
                from redis.commands.core import Script

                # redis-py's hint omits None; the client is passed on each call.
                _script = Script(None, RESERVE_SCRIPT.encode())  # type: ignore[arg-type]
            client = redis_client.raw_client(alias)
            args = [time.time(), *_params(), STREAK_TTL]
            counted, value = _script(keys=[_redis_key(user)], args=args, client=client)
        except redis_client.redis_errors() as exc:
            raise CacheUnusable() from exc
        return bool(int(counted)), float(value)
    return _reserve_in_generic_cache(user)


def _reserve_in_generic_cache(user: Any) -> tuple[bool, float]:
    """The script's logic on any other cache: atomic within a process (locmem), the write read back
    so a cache that drops writes silently is noticed."""
    cache = caches[_alias()]
    free, base, cap = _params()
    with _local_lock:
        try:
            state = cache.get(_key(user))
            n, t = (state[0], state[1]) if isinstance(state, tuple | list) and len(state) >= 2 else (0, 0.0)
            now = time.time()
            if n >= free:
                wait = t + min(cap, base * 2 ** min(n - free, 32)) - now
                if wait > 0:
                    return False, wait
            written = (n + 1, now, secrets.token_hex(8))
            cache.set(_key(user), written, STREAK_TTL)
            if cache.get(_key(user)) != written:
                raise CacheUnusable()
        except CacheUnusable:
            raise
        except Exception as exc:  # the cache client's own errors vary by backend
            raise CacheUnusable() from exc
    return True, float(n + 1)


# --- the database ---------------------------------------------------------------------------------
def _events(user: Any):  # noqa: ANN202 - a SecurityEvent queryset
    from ..models import SecurityEvent

    return SecurityEvent.objects.filter(user=user)


def _streak_start(user: Any) -> Any:
    """When the current streak began: the last completed MFA step or MFA reset (None: never)."""
    from ..models import SecurityEvent

    return (
        _events(user)
        .filter(kind__in=[SecurityEvent.Kind.MFA_COMPLETED, SecurityEvent.Kind.MFA_RESET])
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def _failures(user: Any, since: Any):  # noqa: ANN202 - a SecurityEvent queryset
    """Typed-code failures, and attempts counted in the database whose outcome is not known yet."""
    from ..models import SecurityEvent

    failed = _events(user).filter(kind=SecurityEvent.Kind.MFA_FAILED).filter(
        Q(detail__method__in=TYPED_METHODS) | (Q(detail__stage=ATTEMPT) & ~Q(detail__has_key="resolved"))
    )
    return failed if since is None else failed.filter(created_at__gt=since)


def consecutive_failures(user: Any) -> int:
    """Failed typed codes since the user's last completed MFA step (the ceiling counts these)."""
    return _failures(user, _streak_start(user)).count()


def _reserve_in_database(user: Any) -> tuple[bool, float]:
    """The cache is unusable: count the attempt as a ``stage="attempt"`` event, under a row lock."""
    from ..models import SecurityEvent
    from ..services import record_event

    user_model = get_user_model()
    with transaction.atomic(using=router.db_for_write(user_model)):
        list(user_model._default_manager.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        start = _streak_start(user)
        recent = timezone.now() - timedelta(seconds=STREAK_TTL)
        since = recent if start is None else max(start, recent)
        times = list(_failures(user, since).order_by("-created_at").values_list("created_at", flat=True)[:64])
        if times:
            wait = times[0].timestamp() + backoff_seconds(len(times)) - time.time()
            if wait > 0:
                return False, wait
        record_event(user, SecurityEvent.Kind.MFA_FAILED, method="code", stage=ATTEMPT)
    return True, float(len(times) + 1)


def _resolve_database_attempt(user: Any, outcome: str) -> None:
    """Mark one open database-counted attempt of ``user`` with its outcome (none when the cache
    counted it). A failure's own ``mfa_failed`` event then counts in its place."""
    if not getattr(user, DB_ATTEMPT_ATTR, False):
        return
    setattr(user, DB_ATTEMPT_ATTR, False)
    from ..models import SecurityEvent

    open_attempt = (
        _events(user)
        .filter(kind=SecurityEvent.Kind.MFA_FAILED, detail__stage=ATTEMPT)
        .exclude(detail__has_key="resolved")
        .order_by("created_at")
        .values_list("pk", flat=True)
        .first()
    )
    if open_attempt is not None:
        SecurityEvent.objects.filter(pk=open_attempt).update(
            detail={"method": "code", "stage": ATTEMPT, "resolved": outcome}
        )


# --- the ceiling ----------------------------------------------------------------------------------
def is_locked(user: Any) -> bool:
    """True while typed codes are locked: a ``codes_locked`` event newer than the last completed MFA
    step and the last MFA reset."""
    from ..models import SecurityEvent

    latest = (
        _events(user)
        .filter(
            kind__in=[SecurityEvent.Kind.CODES_LOCKED, SecurityEvent.Kind.MFA_COMPLETED, SecurityEvent.Kind.MFA_RESET]
        )
        .order_by("-created_at", "-pk")
        .values_list("kind", flat=True)
        .first()
    )
    return latest == SecurityEvent.Kind.CODES_LOCKED


def _lock(user: Any, failures: int, request: Any) -> None:
    from ..adapter import get_adapter
    from ..models import SecurityEvent
    from ..services import record_event

    record_event(user, SecurityEvent.Kind.CODES_LOCKED, request=request, failures=failures)
    get_adapter().send_alert(user, "codes_locked", {"failures": failures})
