"""The browser's push endpoints (docs/api-contract.md, "Browser endpoints"): start a push, poll it.

Thin: both call the push flows (``push.internal.flows``), as the no-JavaScript page does.
"""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ..api.base import SESSION_AUTHENTICATION, PendingLoginAPIView, PushMFAAPIView
from ..api.exceptions import APIError
from ..api.inputs import remember_from
from ..api.schema import error_responses, extend_schema
from ..app_settings import app_settings
from . import serializers as ser
from .internal import flows
from .store.base import iso


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


def poll_url(challenge_id: str) -> str:
    """Where the browser polls: the async view on ASGI sites (``PUSHMFA_ASYNC_POLL``), else the sync one."""
    name = "pushmfa:api-push-poll-async" if app_settings.ASYNC_POLL else "pushmfa:api-push-poll"
    return reverse(name, args=[challenge_id])


class MayPoll(BasePermission):
    """Polling: a login in progress, or a session that completed its login and still holds the
    binding (see ``flows.check_poller``)."""

    def has_permission(self, request: Request, view: object) -> bool:
        flows.check_poller(request._request, logged_in=bool(request.user and request.user.is_authenticated))
        return True


class PushStartView(PendingLoginAPIView):
    """``POST api/push/`` ``{}`` → ``201 {"challenge_id", "display_number", "expires_at", "poll_url"}``.

    Extension: ``{"remember_browser": true}`` sets the "trust this browser" cookie when this push is
    approved (only when ``PUSHMFA_TRUST_BROWSER_DAYS`` > 0).
    """

    @extend_schema(
        operation_id="browser_push_start",
        summary="Send a push with a number to the user's phones",
        request=ser.PushStartRequestSerializer,
        responses={201: ser.PushStartSerializer, **error_responses(400, 403, 409, 413, 423, 429, 503)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        remember = remember_from(request)
        challenge = flows.start(request._request, self.pending_user(request), remember=remember)
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
    # login (GET: no CSRF involved); a pending session is anonymous to it. An app client's token
    # session stands in for the cookie's.
    authentication_classes = SESSION_AUTHENTICATION
    permission_classes = [MayPoll]

    @extend_schema(
        operation_id="browser_push_poll",
        summary="The push's status (long poll with wait); the first 'approved' logs the session in",
        parameters=[ser.PushPollQuerySerializer],
        responses={200: ser.PushPollSerializer, **error_responses(400, 403, 404, 503)},
        tags=["browser"],
    )
    def get(self, request: Request, challenge_id: str) -> Response:
        wait = parse_wait(request.query_params.get("wait"))
        result = flows.poll(request._request, challenge_id, wait)
        response = Response(result.as_json())
        if result.done is not None:
            result.done.apply(response)
        return response
