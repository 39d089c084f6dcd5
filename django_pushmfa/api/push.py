"""The push endpoints (docs/api-contract.md): the browser starts a push and polls it; the phone's
side (pairing, signed device endpoints) is ``api.device``, routed here with push.

Thin: every view calls the push flows (``push.internal.flows``), as the no-JavaScript page does.
The poll also exists as a native async view (``pushmfa:api-push-poll-async``) for ASGI
deployments: the long poll awaits the challenge store. Django still keeps a thread per ASGI request
for its synchronous steps; ``django_pushmfa.asgi.LongPollMiddleware`` moves the wait in front of
Django so that a waiting browser holds none. The async view works under WSGI too. ``POST api/push/``
points its ``poll_url`` there when ``PUSHMFA_ASYNC_POLL`` is True; the contract's path keeps
answering either way.
"""
from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.log import log_response
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ..app_settings import app_settings
from ..internal import app_sessions
from ..push.internal import flows
from ..push.store import Challenge
from ..push.store.base import iso
from . import device
from . import serializers as ser
from .authentication import SessionTokenRefused
from .base import SESSION_AUTHENTICATION, PendingLoginAPIView, PushMFAAPIView
from .exceptions import APIError, error_code, to_api_exception
from .schema import error_responses, extend_schema


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


def challenge_json(challenge: Challenge, poll: str) -> dict[str, Any]:
    """The ``201`` body of a started push, polled at ``poll``."""
    return {
        "challenge_id": challenge.id,
        "display_number": challenge.display_number,
        "expires_at": iso(challenge.expires_at),
        "poll_url": poll,
    }


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
        request=ser.RememberSerializer,
        responses={201: ser.PushStartSerializer, **error_responses(400, 403, 409, 413, 423, 429, 503)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        remember = self.validated(request, ser.RememberSerializer)["remember_browser"]
        challenge = flows.start(request._request, self.pending_user(request), remember=remember)
        return Response(challenge_json(challenge, poll_url(challenge.id)), status=status.HTTP_201_CREATED)


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



# --- the same poll as a native async view, for ASGI deployments (PUSHMFA_ASYNC_POLL) -----------
def _error(exc: Exception) -> JsonResponse:
    api_exc = to_api_exception(exc)
    if api_exc is None:
        raise exc
    response = JsonResponse({"detail": str(api_exc.detail), "code": error_code(api_exc)}, status=api_exc.status_code)
    for header, value in (getattr(api_exc, "headers", None) or {}).items():
        response[header] = value
    return response


def _check_poller(request: HttpRequest) -> None:
    """An app client's ``X-Session-Token`` session stands in for the cookie's (as on the sync view)."""
    try:
        is_app = app_sessions.authenticate_request(request)
    except app_sessions.InvalidSessionToken:
        raise SessionTokenRefused()
    flows.check_poller(request, logged_in=(request.user if is_app else get_user(request)).is_authenticated)


async def push_poll(request: HttpRequest, challenge_id: str) -> HttpResponse:
    """``GET api/push/<challenge_id>/async/?wait=0..30`` → ``{"status": ...}`` (+ ``redirect_url`` once).

    What ``@require_GET`` and ``@never_cache`` do, inline: those decorators only accept async
    views from Django 5.0 on, and Django 4.2 is supported.
    """
    if request.method != "GET":
        response: HttpResponse = HttpResponseNotAllowed(["GET"])
        log_response(
            "Method Not Allowed (%s): %s", request.method, request.path, response=response, request=request
        )
    else:
        response = await _poll(request, challenge_id)
    add_never_cache_headers(response)
    return response


async def _poll(request: HttpRequest, challenge_id: str) -> JsonResponse:
    try:
        wait = parse_wait(request.GET.get("wait"))
        result = await flows.apoll(request, challenge_id, wait, check=lambda: _check_poller(request))
    except Exception as exc:  # mapped to the contract's errors; anything else re-raised
        # An app session is saved for the contract's errors only (as Django skips saving on a 500).
        await sync_to_async(app_sessions.detach)(request, save=to_api_exception(exc) is not None)
        return _error(exc)
    new_token = await sync_to_async(app_sessions.detach)(request)
    data = result.as_json()
    if new_token:
        await sync_to_async(app_sessions.expose)(request, data, new_token)
    response = JsonResponse(data)
    if result.done is not None:
        result.done.apply(response)
    return response


urlpatterns = [
    # browser endpoints (login in progress)
    path("push/", PushStartView.as_view(), name="api-push-start"),
    path("push/<str:challenge_id>/", PushPollView.as_view(), name="api-push-poll"),
    path("push/<str:challenge_id>/async/", push_poll, name="api-push-poll-async"),
    # the phone's side: pairing (account) and the signed device endpoints
    *device.urlpatterns,
]
