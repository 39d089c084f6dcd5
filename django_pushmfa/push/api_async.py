"""The push poll as a native async view, for ASGI deployments (``pushmfa:api-push-poll-async``).

Same contract as :class:`~django_pushmfa.push.api.PushPollView` (``GET api/push/<id>/?wait=``),
but the long poll awaits the challenge store instead of holding a worker thread for up to 30 s.
It works under WSGI too (Django runs async views in an event loop there). ``POST api/push/``
points its ``poll_url`` here when ``PUSHMFA_ASYNC_POLL`` is True; the contract's path keeps
answering either way.
"""
from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.log import log_response

from ..api.authentication import SessionTokenRefused
from ..api.exceptions import error_code, to_api_exception
from ..internal import app_sessions
from .api import parse_wait
from .internal import flows


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
        await sync_to_async(_check_poller)(request)
        result = await flows.apoll(request, challenge_id, wait)
    except Exception as exc:  # noqa: BLE001 - mapped to the contract's errors; anything else re-raised
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
