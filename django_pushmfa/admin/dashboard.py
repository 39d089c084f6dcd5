"""The admin dashboard (``admin:<app>_securityevent_dashboard``): the event log at a glance.

Push approvals, denials, wrong numbers, reports and rate-limit hits per day; MFA adoption by method;
users whose push is suspended now; the IPs and accounts behind the most failures. Charts are SVG
drawn on the server (:mod:`.charts`); every bar and row links to the events it counts. Staff with
the view permission on security events may see it.
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from ..models import MFACredential, SecurityEvent
from . import charts
from .dashboard_data import DAILY_KINDS, FAILURE_KINDS, Dashboard, as_rows, collect

COLORS = {
    "push_approved": "#1a7f4b",
    "push_denied": "#b42318",
    "push_mfa_wrong_number": "#d97706",
    "push_reported": "#7c3aed",
    "rate_limited": "#475569",
}
DAYS = 30
FAILURE_DAYS = 7


def dashboard_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    board = collect(days=DAYS, failure_days=FAILURE_DAYS)
    opts = model_admin.model._meta
    changelist = reverse(f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("MFA dashboard"),
        "opts": opts,
        "board": board,
        "changelist_url": changelist,
        **chart_context(board, changelist),
    }
    return TemplateResponse(request, "admin/pushmfa/dashboard.html", context)


def chart_context(board: Dashboard, changelist: str) -> dict[str, Any]:
    """The dashboard's charts and tables, with the links to the filtered event list."""
    names = dict(SecurityEvent.Kind.choices)
    failures = ",".join(FAILURE_KINDS)

    def events(**query: Any) -> str:
        return f"{changelist}?{urlencode(query)}"

    def day_link(kind: str, day: date) -> str:
        return events(
            kind__exact=kind, created_at__year=day.year, created_at__month=day.month, created_at__day=day.day
        )

    series = [
        charts.Series(key=kind, label=str(names[kind]), color=COLORS[kind], values=board.daily[kind])
        for kind in DAILY_KINDS
    ]
    total = board.users_total
    adoption_rows = [(_("Any method"), board.users_with_mfa, total)] + [
        (str(label), board.adoption.get(method, 0), total) for method, label in MFACredential.Method.choices
    ]
    return {
        "legend": [
            {"label": s.label, "color": s.color, "total": board.totals[s.key], "url": events(kind__exact=s.key)}
            for s in series
        ],
        "daily_chart": charts.stacked_bars(
            board.days, series, label=_("Push outcomes and rate-limit hits per day"), link=day_link
        ),
        "daily_rows": as_rows(board),
        "adoption_chart": charts.horizontal_bars(adoption_rows, label=_("Users with an active method")),
        "ip_rows": [
            {"label": row.label, "count": row.count, "url": events(ip=row.key, kind__in=failures)}
            for row in board.top_ips
        ],
        "user_rows": [
            {"label": row.label, "count": row.count, "url": events(user__id__exact=row.key, kind__in=failures)}
            for row in board.top_users
        ],
        "suspended_rows": [
            {
                "label": row.label,
                "minutes_left": None if row.seconds_left is None else (row.seconds_left + 59) // 60,
                "url": events(user__id__exact=row.user_id, kind__exact=SecurityEvent.Kind.PUSH_SUSPENDED),
            }
            for row in board.suspended
        ],
        "failure_days": FAILURE_DAYS,
        "days": DAYS,
    }
