"""MFA-fatigue defences besides number matching: rate limits on pushes started, and suspension of
push for a user after a run of denials / wrong numbers or a "this wasn't me" report.

The counting itself happens inside the store's atomic operations (so a whole login stays within a
few Redis commands); this module turns settings into the store's policies and reacts to outcomes:
SecurityEvents, the ``push_suspended`` signal and the email alert.
"""
from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from ... import signals
from ...adapter import get_adapter
from ...app_settings import app_settings
from ...exceptions import RateLimited
from ...models import SecurityEvent
from ...services import record_event
from ..store import RateLimit, SuspensionPolicy, get_store

REASON_DENIALS = "denials"
REASON_REPORTED = "reported"


def _pair(name: str) -> tuple[int, int] | None:
    value = getattr(app_settings, name)
    if not value:
        return None
    count, window = value
    return int(count), int(window)


def limits_for(user_id: str, ip: str | None) -> list[RateLimit]:
    """The rate limits a new push for ``user_id`` from ``ip`` counts against (None setting: off)."""
    limits = []
    user_limit = _pair("PUSH_RATE_LIMIT_USER")
    if user_limit:
        limits.append(RateLimit("user", str(user_id), *user_limit))
    ip_limit = _pair("PUSH_RATE_LIMIT_IP")
    if ip_limit and ip:
        limits.append(RateLimit("ip", ip, *ip_limit))
    return limits


def suspension_policy(user_id: str) -> SuspensionPolicy:
    return SuspensionPolicy(
        user_id=str(user_id),
        denial_limit=int(app_settings.SUSPEND_AFTER_DENIALS or 0),
        report_limit=int(app_settings.SUSPEND_AFTER_REPORTS or 0),
        window=int(app_settings.SUSPEND_WINDOW),
        seconds=int(app_settings.SUSPEND_SECONDS),
    )


def on_rate_limited(user: Any, exc: RateLimited, request: HttpRequest | None = None) -> None:
    """Record the refusal once per window (the first refused hit), not per hit: no DB flooding."""
    if getattr(exc, "first_in_window", False):
        record_event(
            user, SecurityEvent.Kind.RATE_LIMITED, request=request, scope=exc.scope, action="push",
            retry_after=exc.retry_after,
        )


def on_suspended(
    user: Any, until: float, reason: str, *, request: HttpRequest | None = None, challenge_id: str | None = None
) -> None:
    """A suspension just started: record it, signal it, and alert the user by email."""
    until_dt = datetime.fromtimestamp(until, UTC)
    seconds = max(0, math.ceil(until - time.time()))
    record_event(
        user, SecurityEvent.Kind.PUSH_SUSPENDED, request=request, reason=reason, until=until_dt.isoformat(),
        seconds=seconds, challenge_id=challenge_id,
    )
    signals.push_suspended.send(sender=SecurityEvent, user=user, until=until_dt, reason=reason)
    get_adapter().send_alert(user, "push_suspended", {"until": until_dt, "reason": reason, "seconds": seconds})


def suspension_remaining(user: Any) -> int:
    """Seconds push stays suspended for ``user`` (0 when it is not). Other methods keep working."""
    return get_store().suspension_remaining(str(user.pk))
