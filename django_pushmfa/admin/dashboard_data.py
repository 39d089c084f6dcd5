"""What the admin dashboard shows, in a fixed number of aggregate queries over the event log.

:func:`collect` returns everything the page draws; each part is one ``GROUP BY`` query served by the
indexes on ``SecurityEvent`` (``kind, created_at`` for the per-day series and the failure rankings),
never a row-by-row scan in Python. Users with push suspended now come from the recent
``push_suspended`` events, confirmed against the challenge store (one round trip per such user,
at most :data:`SUSPENDED_LIMIT`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..app_settings import app_settings
from ..exceptions import ChallengeStoreUnavailable
from ..models import MFACredential, SecurityEvent

Kind = SecurityEvent.Kind

# The per-day series, in the order they are drawn.
DAILY_KINDS: tuple[str, ...] = (
    Kind.PUSH_APPROVED,
    Kind.PUSH_DENIED,
    Kind.WRONG_NUMBER,
    Kind.PUSH_REPORTED,
    Kind.RATE_LIMITED,
)
# What counts as a failure when ranking IPs and accounts.
FAILURE_KINDS: tuple[str, ...] = (
    Kind.PUSH_DENIED,
    Kind.WRONG_NUMBER,
    Kind.PUSH_REPORTED,
    Kind.MFA_FAILED,
    Kind.RATE_LIMITED,
)
TOP_LIMIT = 10
SUSPENDED_LIMIT = 50


@dataclass
class Ranked:
    key: str  # the IP, or the user's id
    label: str  # the IP, or the user's name
    count: int


@dataclass
class Suspended:
    user_id: str
    label: str
    seconds_left: int | None  # None: the challenge store could not be asked


@dataclass
class Dashboard:
    days: list[date]
    since: datetime
    daily: dict[str, list[int]]  # kind -> count per day of ``days``
    totals: dict[str, int]  # kind -> count over the period
    adoption: dict[str, int]  # method -> users with an active credential of it
    users_total: int
    users_with_mfa: int
    suspended: list[Suspended] = field(default_factory=list)
    top_ips: list[Ranked] = field(default_factory=list)
    top_users: list[Ranked] = field(default_factory=list)


def collect(days: int = 30, failure_days: int = 7, now: datetime | None = None) -> Dashboard:
    """The dashboard's figures: ``days`` of daily series, failures ranked over ``failure_days``.

    Seven queries whatever the size of the log (asserted in tests/admin/test_dashboard.py), plus one
    challenge-store round trip per user whose push was suspended recently.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_list = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    since = timezone.make_aware(datetime.combine(day_list[0], datetime.min.time()))
    events = SecurityEvent.objects.order_by()

    daily = {kind: [0] * days for kind in DAILY_KINDS}
    index = {day: i for i, day in enumerate(day_list)}
    rows = (
        events.filter(kind__in=DAILY_KINDS, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "kind")
        .annotate(n=Count("id"))
    )
    for day, kind, count in rows:
        if day in index:
            daily[kind][index[day]] = count
    totals = {kind: sum(series) for kind, series in daily.items()}

    active = MFACredential.objects.active().order_by()
    adoption = {
        method: count
        for method, count in active.values_list("method").annotate(n=Count("user_id", distinct=True))
    }
    users_with_mfa = active.values("user_id").distinct().count()
    users_total = get_user_model()._default_manager.count()

    failures_since = now - timedelta(days=failure_days)
    failures = events.filter(kind__in=FAILURE_KINDS, created_at__gte=failures_since)
    top_ips = [
        Ranked(key=str(ip), label=str(ip), count=count)
        for ip, count in failures.exclude(ip__isnull=True)
        .values_list("ip")
        .annotate(n=Count("id"))
        .order_by("-n", "ip")[:TOP_LIMIT]
    ]
    username = f"user__{get_user_model().USERNAME_FIELD}"
    top_users = [
        Ranked(key=str(user_id), label=str(name), count=count)
        for user_id, name, count in failures.values_list("user_id", username)
        .annotate(n=Count("id"))
        .order_by("-n", "user_id")[:TOP_LIMIT]
    ]
    return Dashboard(
        days=day_list,
        since=since,
        daily=daily,
        totals=totals,
        adoption=adoption,
        users_total=users_total,
        users_with_mfa=users_with_mfa,
        suspended=suspended_now(now),
        top_ips=top_ips,
        top_users=top_users,
    )


def suspended_now(now: datetime) -> list[Suspended]:
    """Users whose push is suspended at ``now``: a ``push_suspended`` event within the longest
    suspension, still running according to the challenge store (which a reset may have lifted)."""
    from ..push.store import get_store

    window = timedelta(seconds=int(app_settings.SUSPEND_SECONDS))
    username = f"user__{get_user_model().USERNAME_FIELD}"
    recent = (
        SecurityEvent.objects.order_by()
        .filter(kind=Kind.PUSH_SUSPENDED, created_at__gte=now - window)
        .values_list("user_id", username)
        .distinct()[:SUSPENDED_LIMIT]
    )
    found: list[Suspended] = []
    for user_id, name in recent:
        try:
            left: int | None = get_store().suspension_remaining(str(user_id))
        except ChallengeStoreUnavailable:
            left = None
        if left is None or left > 0:
            found.append(Suspended(user_id=str(user_id), label=str(name), seconds_left=left))
    return found


def as_rows(board: Dashboard) -> list[dict[str, Any]]:
    """One row per day (for the table under the chart): the day and its count of each kind."""
    return [
        {"day": day, "counts": [board.daily[kind][i] for kind in DAILY_KINDS]} for i, day in enumerate(board.days)
    ]
