"""The session registry behind "Your sessions": one :class:`~django_pushmfa.models.UserSession` per
logged-in session, and the check that ends sessions on every session engine.

A login registers the session: the record's id goes into the session itself. A password step that
leaves the MFA step pending registers it as ``mfa_pending`` (recovery ends those too, and
:func:`activate` then refuses to complete the login).

``MFAMiddleware`` calls :func:`check` on every request of a logged-in session: a session whose
record was ended (signed out from another browser, or by recovery) is logged out there. So ending a
session is one UPDATE of its record, and it works alike for the database, cache and signed-cookie
engines (a signed cookie cannot be deleted by the server, but it names a record that can be ended).
"Last seen" is written at most once per ``PUSHMFA_SESSION_SEEN_INTERVAL``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ..app_settings import app_settings
from ..models import SecurityEvent, UserSession

RECORD_KEY = "pushmfa_session"


def _describe(request: HttpRequest) -> dict[str, Any]:
    from ..push.internal.context import build_context

    context = build_context(request)
    return {
        "browser": context["browser"][:100],
        "os": context["os"][:100],
        "ip": context["ip"] or None,
        "location": context["location"][:100],
    }


def current_id(request: HttpRequest) -> str | None:
    session = getattr(request, "session", None)
    value = session.get(RECORD_KEY) if session is not None else None
    return str(value) if value else None


def register(request: HttpRequest, user: Any, *, mfa_pending: bool = False) -> None:
    """Register the session ``request`` just logged ``user`` in with (or, ``mfa_pending``, whose password
    step it just did): a new record, its id in the session."""
    record = UserSession.objects.create(user_id=user.pk, mfa_pending=mfa_pending, **_describe(request))
    request.session[RECORD_KEY] = str(record.pk)


def activate(request: HttpRequest, user: Any) -> bool:
    """The MFA step of this session's pending login completes: its record becomes a signed-in session.

    False when recovery ended it meanwhile (the login must not complete). One UPDATE; a session
    without a record (its password step predates the registry) is registered instead.
    """
    pk = _uuid(current_id(request) or "")
    if pk is None:
        register(request, user)
        return True
    return bool(
        UserSession.objects.filter(pk=pk, user_id=user.pk, ended_at__isnull=True).update(
            mfa_pending=False, last_seen_at=timezone.now()
        )
    )


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def check(request: HttpRequest) -> bool:
    """Whether this logged-in session may go on (False: log it out). One query; plus a throttled
    "last seen" UPDATE.

    A logged-in session without a record predates the registry: it is registered now, unless
    recovery ended the user's sessions at some point (then it may be one of those: refused).
    """
    session = getattr(request, "session", None)
    if session is None:
        return True
    user_pk = session.get(SESSION_KEY)
    if not user_pk:
        return True
    record_id = current_id(request)
    if not record_id:
        if SecurityEvent.objects.filter(user_id=user_pk, kind=SecurityEvent.Kind.SESSIONS_ENDED).exists():
            return False
        record = UserSession.objects.create(user_id=user_pk, **_describe(request))
        session[RECORD_KEY] = str(record.pk)
        return True
    pk = _uuid(record_id)
    last_seen_at = _open_record(pk, user_pk)
    if pk is None or last_seen_at is None:
        return False
    now = timezone.now()
    if now - last_seen_at >= timedelta(seconds=int(app_settings.SESSION_SEEN_INTERVAL)):
        UserSession.objects.filter(pk=pk, ended_at__isnull=True).update(last_seen_at=now, **_describe(request))
    return True


def _open_record(pk: uuid.UUID | None, user_pk: Any) -> datetime | None:
    """The record's "last seen" when it is ``user_pk``'s and still open, else None (one query)."""
    if pk is None:
        return None
    row = UserSession.objects.filter(pk=pk, user_id=user_pk).values_list("ended_at", "last_seen_at").first()
    return row[1] if row is not None and row[0] is None else None


def record_is_open(record_id: Any, user_pk: Any) -> bool:
    """Whether the session record ``record_id`` is ``user_pk``'s and still open (tokens bound to it)."""
    return _open_record(_uuid(record_id), user_pk) is not None


def is_open(session: Any) -> bool:
    """Whether a session, read outside a request's own (an app client's ``X-Session-Token``), may go on:
    False when it is logged in and its record was ended (signed out from elsewhere, recovery).
    Read only: :func:`check` does the bookkeeping for the request's own session."""
    user_pk = session.get(SESSION_KEY)
    if not user_pk:
        return True
    record_id = session.get(RECORD_KEY)
    if not record_id:
        return not SecurityEvent.objects.filter(user_id=user_pk, kind=SecurityEvent.Kind.SESSIONS_ENDED).exists()
    return record_is_open(record_id, user_pk)


def end_all(user: Any, *, reason: str, keep: str | None = None) -> int:
    """End every open session of ``user`` except the record ``keep``; how many were ended."""
    records = UserSession.objects.filter(user=user, ended_at__isnull=True)
    keep_pk = _uuid(keep) if keep else None
    if keep_pk is not None:
        records = records.exclude(pk=keep_pk)
    return records.update(ended_at=timezone.now(), end_reason=reason[:40])


def end_one(request: HttpRequest, session_id: Any) -> bool:
    """End one of the logged-in user's other sessions (``session_ended``); False when there is none such.

    The current session is not ended this way (that is logout).
    """
    from ..services import record_event

    pk = _uuid(session_id)
    if pk is None or str(pk) == current_id(request):
        return False
    user: Any = request.user  # the logged-in user (account pages and endpoints only)
    if not UserSession.objects.filter(pk=pk, user=user, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason="signed_out_by_user"
    ):
        return False
    record_event(request.user, SecurityEvent.Kind.SESSION_ENDED, request=request, session_id=str(pk))
    return True


def sign_out_others(request: HttpRequest) -> int:
    """End every session of the logged-in user but this one (``sessions_ended``); how many ended."""
    from ..services import record_event

    user, reason = request.user, "signed_out_others"
    with transaction.atomic():
        ended = end_all(user, reason=reason, keep=current_id(request))
        record_event(user, SecurityEvent.Kind.SESSIONS_ENDED, request=request, reason=reason, sessions=ended)
    return ended


def end_current(request: HttpRequest, reason: str = "logout") -> None:
    """Mark this session's record ended (a logout)."""
    pk = _uuid(current_id(request) or "")
    if pk is not None:
        UserSession.objects.filter(pk=pk, ended_at__isnull=True).update(ended_at=timezone.now(), end_reason=reason)


@dataclass(frozen=True)
class SessionSummary:
    """What the user sees of one of their sessions."""

    id: str
    browser: str
    os: str
    ip: str | None
    location: str
    created_at: datetime
    last_seen_at: datetime
    is_current: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "browser": self.browser,
            "os": self.os,
            "ip": self.ip,
            "location": self.location,
            "created_at": self.created_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "is_current": self.is_current,
        }


def list_for(request: HttpRequest) -> list[SessionSummary]:
    """The logged-in user's open sessions, this one first, then the most recently seen."""
    current = current_id(request)
    user: Any = request.user  # the logged-in user (account pages and endpoints only)
    rows = UserSession.objects.filter(user=user, ended_at__isnull=True, mfa_pending=False).order_by(
        "-last_seen_at"
    )
    summaries = [
        SessionSummary(
            str(r.pk), r.browser, r.os, r.ip, r.location, r.created_at, r.last_seen_at, str(r.pk) == current
        )
        for r in rows
    ]
    return sorted(summaries, key=lambda s: not s.is_current)


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_out`` receiver: a logged-out session leaves "Your sessions"."""
    if request is not None and user is not None:
        end_current(request)
