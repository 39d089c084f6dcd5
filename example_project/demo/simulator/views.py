"""The phone simulator: one page playing the mobile app, and the small JSON API behind it.

Development only: every view answers 404 unless ``DEMO_PHONE_SIMULATOR`` is on (the
example settings: the environment variable ``PUSHMFA_PHONE_SIMULATOR``, default DEBUG).
The page's script never signs anything itself; each action goes to a view here, which uses the
reference phone client (``django_pushmfa.testing.phone``) with the simulated phone's key.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from django_pushmfa.app_settings import app_settings
from django_pushmfa.push.internal.numbers import effective_policy
from django_pushmfa.testing.phone import PhoneAPIError

from ..models import SimulatedPhone
from . import phones

MAX_WAIT = 25  # seconds one inbox long-poll may wait
MAX_SEEN = 200


def simulator_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEMO_PHONE_SIMULATOR:
            raise Http404("The phone simulator is off (PUSHMFA_PHONE_SIMULATOR).")
        return view(request, *args, **kwargs)

    return wrapper


def _error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def _device_call(call: Callable[[], Any]) -> JsonResponse:
    """Run one device-API call and pass the server's answer (or its error code) through."""
    try:
        return JsonResponse(call() or {}, safe=False)
    except PhoneAPIError as exc:
        return _error(exc.code or "error", exc.detail or str(exc), exc.status)
    except OSError as exc:
        return _error("unreachable", f"The site's device API could not be reached: {exc}", 502)


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@simulator_only
@ensure_csrf_cookie
@require_GET
def page(request: HttpRequest) -> HttpResponse:
    phone_list = [phones.to_json(p) for p in SimulatedPhone.objects.select_related("user")]
    selected = request.GET.get("phone")
    return render(
        request,
        "demo/simulator.html",
        {
            "phones": phone_list,
            "phones_json": phone_list,
            "selected": selected,
            "number_mode": effective_policy()[0],
        },
    )


@simulator_only
@require_GET
def phone_list(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"phones": [phones.to_json(p) for p in SimulatedPhone.objects.select_related("user")]})


@simulator_only
@require_POST
def pair(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    uri = str(data.get("pairing_uri") or "")
    name = str(data.get("name") or "").strip()[:100] or "Simulated phone"
    try:
        phone = phones.pair(uri, name)
    except ValueError:
        return _error("invalid_uri", "That is not a pairing URI (pushmfa://pair?...).", 400)
    except PhoneAPIError as exc:
        return _error(exc.code or "error", exc.detail or str(exc), exc.status)
    except OSError as exc:
        return _error("unreachable", f"The server in the pairing URI could not be reached: {exc}", 502)
    return JsonResponse(phones.to_json(phone), status=201)


@simulator_only
@require_GET
def inbox(request: HttpRequest, phone_id: int) -> JsonResponse:
    """Long-poll for new pushes. ``seen``: comma-separated challenge ids already shown.

    Without ``seen`` (the page just opened) it answers at once with the pushes already delivered,
    so the page only notifies about newer ones.
    """
    phone = get_object_or_404(SimulatedPhone, pk=phone_id)
    return _inbox(request, phone.push_token)


@simulator_only
@require_GET
def browser_inbox(request: HttpRequest) -> JsonResponse:
    """The browser phone's push inbox (``/simulator/browser/``): the same long-poll, by its push token.

    The browser phone signs everything itself with the SDK; this view only stands in for FCM."""
    token = request.GET.get("token", "")
    if not phones.is_browser_push_token(token):
        return _error("invalid", "Not a browser phone's push token.", 400)
    return _inbox(request, token)


def _inbox(request: HttpRequest, push_token: str) -> JsonResponse:
    if "seen" not in request.GET:
        return JsonResponse({"pushes": [], "known": phones.known_pushes(push_token)})
    seen = {s for s in request.GET["seen"].split(",") if s}
    if len(seen) > MAX_SEEN:
        return _error("invalid", "Too many seen ids.", 400)
    try:
        wait = max(0.0, min(float(request.GET.get("wait", MAX_WAIT)), MAX_WAIT))
    except ValueError:
        return _error("invalid", "wait must be a number of seconds.", 400)
    return JsonResponse({"pushes": phones.wait_for_pushes(push_token, seen, wait)})


@simulator_only
@ensure_csrf_cookie
@require_GET
def browser_phone(request: HttpRequest) -> HttpResponse:
    """A phone app running in this browser tab on the TypeScript device SDK: its key is a
    non-extractable WebCrypto key kept in IndexedDB, and it signs its own requests."""
    return render(request, "demo/browser_phone.html", {"number_mode": app_settings.NUMBER_MODE})


@simulator_only
@require_GET
def challenges(request: HttpRequest, phone_id: int) -> JsonResponse:
    phone = get_object_or_404(SimulatedPhone, pk=phone_id)
    return _device_call(lambda: {"challenges": phones.client_for(phone, request).challenges()})


@simulator_only
@require_GET
def challenge(request: HttpRequest, phone_id: int, challenge_id: Any) -> JsonResponse:
    phone = get_object_or_404(SimulatedPhone, pk=phone_id)
    return _device_call(lambda: phones.client_for(phone, request).challenge(str(challenge_id)))


@simulator_only
@require_POST
def respond(request: HttpRequest, phone_id: int, challenge_id: Any) -> JsonResponse:
    phone = get_object_or_404(SimulatedPhone, pk=phone_id)
    data = _body(request)
    decision = str(data.get("decision") or "")
    selected = data.get("selected_number")
    selected = None if selected is None else str(selected)
    return _device_call(lambda: phones.client_for(phone, request).respond(str(challenge_id), decision, selected))


@simulator_only
@require_POST
def forget(request: HttpRequest, phone_id: int) -> JsonResponse:
    """Unregister the phone from the site (``DELETE device/``) if it still works, then forget it."""
    phone = get_object_or_404(SimulatedPhone, pk=phone_id)
    if phones.status(phone) == "active":
        try:
            phones.client_for(phone, request).unregister()
        except (PhoneAPIError, OSError):
            pass  # already gone on the server: forgetting it here is all that is left
    phone.delete()
    return JsonResponse({"forgotten": phone_id})
