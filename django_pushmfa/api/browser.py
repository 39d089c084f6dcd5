"""Browser endpoints of a login in progress: the method list, starting a push, polling it.

Contract: shared/api-contract.md, "Browser endpoints". Nothing here ever tells the browser the
user's id, the requesting IP or anything about the user's devices.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ..app_settings import app_settings
from ..internal import login as login_flow
from ..internal import pending
from ..internal.methods import get_mfa_options
from . import browser_serializers as ser
from .base import PushMFAAPIView
from .exceptions import APIError, MFANotInProgress
from .permissions import HasPendingLogin
from .schema import error_responses, extend_schema

# Session key: the browser asked to be remembered when its push is approved (see api-push-start).
REMEMBER_KEY = "pushmfa_remember_browser"


def iso(timestamp: float) -> str:
    """Unix seconds as ISO 8601 in UTC (what the contract's ``expires_at`` fields hold)."""
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat().replace("+00:00", "Z")


def parse_wait(raw: str | None) -> int:
    """The poll's ``wait``: 0..LONG_POLL_MAX_WAIT; larger counts as the maximum; else ``400 invalid``."""
    maximum = int(app_settings.LONG_POLL_MAX_WAIT)
    if raw is None or raw == "":
        return 0
    text = raw.strip()
    if not text.isascii() or not text.isdigit():  # rejects "-1", "1.5", "abc", "²"
        raise APIError("invalid", _("wait must be a whole number of seconds from 0 to 30."), 400)
    digits = text.lstrip("0") or "0"
    # Never int() a huge string (Python refuses past 4300 digits): anything that long is "large".
    return maximum if len(digits) > 6 else min(int(digits), maximum)


def pending_user(request: Request) -> Any:
    """The user of this session's pending login; a vanished or deactivated user ends the login."""
    state = request.pending_login
    user = state.get_user()
    if user is None:
        pending.clear(request._request)
        raise MFANotInProgress()
    return user


def poll_url(challenge_id: str) -> str:
    """Where the browser polls: the async view on ASGI sites (``PUSHMFA_ASYNC_POLL``), else the sync one."""
    name = "pushmfa:api-push-poll-async" if app_settings.ASYNC_POLL else "pushmfa:api-push-poll"
    return reverse(name, args=[challenge_id])


class HoldsChallengeBinding(BasePermission):
    """Polling: a login in progress, or a session that completed its login and still holds the binding.

    After the approved poll logs the browser in, the pending state is gone but the binding survives
    the key rotation, so later polls from that browser can answer ``consumed``. Any other session
    gets ``mfa_not_in_progress`` (and a foreign challenge id is ``not_found`` further on).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        django_request = request._request
        request.pending_login = pending.get(django_request)
        session = getattr(django_request, "session", None)
        has_binding = bool(session is not None and session.get(pending.BINDING_KEY))
        logged_in = bool(request.user and request.user.is_authenticated)
        if not has_binding or (request.pending_login is None and not logged_in):
            raise MFANotInProgress()
        return True


class MethodsView(PushMFAAPIView):
    """``GET api/methods/`` → ``{"methods": [{"method", "label", "is_primary"}, ...]}``."""

    authentication_classes: list = []
    permission_classes = [HasPendingLogin]

    @extend_schema(
        operation_id="browser_methods",
        summary="The methods this login can be completed with",
        responses={200: ser.MethodListSerializer, **error_responses(403)},
        tags=["browser"],
    )
    def get(self, request: Request) -> Response:
        user = pending_user(request)
        return Response({"methods": [option.as_json() for option in get_mfa_options(user)]})


class PushStartView(PushMFAAPIView):
    """``POST api/push/`` ``{}`` → ``201 {"challenge_id", "display_number", "expires_at", "poll_url"}``.

    Extension: ``{"remember_browser": true}`` sets the "trust this browser" cookie when this push is
    approved (only when ``PUSHMFA_TRUST_BROWSER_DAYS`` > 0).
    """

    authentication_classes: list = []
    permission_classes = [HasPendingLogin]

    @extend_schema(
        operation_id="browser_push_start",
        summary="Send a push with a number to the user's phones",
        request=ser.PushStartRequestSerializer,
        responses={201: ser.PushStartSerializer, **error_responses(400, 403, 409, 413, 423, 429, 503)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict):
            raise APIError("invalid", _("The body must be a JSON object."), 400)
        remember = data.get("remember_browser", False)
        if not isinstance(remember, bool):
            raise APIError("invalid", _("remember_browser must be true or false."), 400)
        user = pending_user(request)
        from ..push.internal import challenges

        challenge = challenges.start_push(request._request, user)
        session = request._request.session
        # Write only a change: an assignment marks the session modified, and the session engine then
        # saves it (a database UPDATE in its own transaction) on every push. A missing key is False.
        if session.get(REMEMBER_KEY, False) is not remember:
            session[REMEMBER_KEY] = remember
        return Response(
            {
                "challenge_id": challenge.id,
                "display_number": challenge.display_number,
                "expires_at": iso(challenge.expires_at),
                "poll_url": poll_url(challenge.id),
            },
            status=status.HTTP_201_CREATED,
        )


class PushPollView(PushMFAAPIView):
    """``GET api/push/<challenge_id>/?wait=0..30`` → ``{"status": ...}`` (+ ``redirect_url`` once).

    The first poll that sees ``approved`` consumes the challenge (exactly once, atomically in the
    store) and logs the session in; later polls from the same browser answer ``consumed``.
    """

    # Session authentication only tells the permission whether this browser already completed its
    # login (GET: no CSRF involved); a pending session is anonymous to it.
    authentication_classes = [SessionAuthentication]
    permission_classes = [HoldsChallengeBinding]

    @extend_schema(
        operation_id="browser_push_poll",
        summary="The push's status (long poll with wait); the first 'approved' logs the session in",
        parameters=[ser.PushPollQuerySerializer],
        responses={200: ser.PushPollSerializer, **error_responses(400, 403, 404, 503)},
        tags=["browser"],
    )
    def get(self, request: Request, challenge_id: str) -> Response:
        wait = parse_wait(request.query_params.get("wait"))
        from ..push.internal import challenges

        django_request = request._request
        if wait:
            challenge = challenges.wait_for_browser(django_request, challenge_id, wait)
        else:
            # Reads and, when approved, consumes in one store operation (answer_poll logs in).
            challenge = challenges.claim_for_browser(django_request, challenge_id)
        remember = challenge.status == "approved" and wants_remember(django_request)
        body = answer_poll(django_request, challenge)
        response = Response(body)
        if body.get("status") == "approved" and remember:
            login_flow.remember_browser_after_login(django_request, response, django_request.user, method="push")
        return response


def wants_remember(request: Any) -> bool:
    """Whether the browser whose push is approved asked to be trusted; call before the login.

    Asked at the start (``remember_browser`` in the body, kept in the session), or ticked on the
    page while this poll waited: the page then posted it to the MFA page, which stored it in the
    session after this request had loaded it, so the stored session is read again (one read, only
    where the feature is on).
    """
    if request.session.pop(REMEMBER_KEY, False):
        return True
    key = request.session.session_key
    if int(app_settings.TRUST_BROWSER_DAYS) <= 0 or not key:
        return False
    from importlib import import_module

    from django.conf import settings

    return bool(import_module(settings.SESSION_ENGINE).SessionStore(key).get(REMEMBER_KEY, False))


def answer_poll(request: Any, challenge: Any) -> dict[str, Any]:
    """The poll's body for ``challenge`` (already checked to be bound to this browser).

    Logs the session in when this call is the one that consumes an approved challenge of the
    session's own pending login. An approval seen with no login in progress (the login completed
    with another method, or it expired mid-wait) is consumed unused so it can never log anyone in.
    """
    state = challenge.status
    if state == "denied":
        from ..push.internal.outcome import denial_reason

        # Page extension: why, so the page can say "a wrong number was picked" instead of guessing.
        reason = denial_reason(challenge)
        return {"status": state, "reason": reason} if reason else {"status": state}
    if state in ("pending", "expired", "consumed"):
        return {"status": state}
    if state != "approved":  # an unknown status from a newer store: fail closed
        return {"status": "denied"}
    from ..push.internal import challenges

    pending_login = pending.get(request)
    if pending_login is None or not constant_time_compare(str(challenge.user_id), pending_login.user_id):
        challenges.consume(challenge)
        if pending_login is None and not request.user.is_authenticated:
            raise MFANotInProgress()
        return {"status": "consumed"}
    if not challenges.consume(challenge):
        return {"status": "consumed"}  # another poll of this browser won the race
    user = pending_login.get_user()
    if user is None:
        pending.clear(request)
        raise MFANotInProgress()
    # The answering device's credential, matched to this user inside complete_login's UPDATE (no
    # SELECT of its own); a device id that is not one of the user's leaves the event without one.
    redirect_url = login_flow.complete_login(request, user, "push", credential_id=challenge.device_id or None)
    return {"status": "approved", "redirect_url": redirect_url}

