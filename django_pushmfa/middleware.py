"""``MFAMiddleware``: place it right after ``AuthenticationMiddleware``.

While a session is "MFA pending" (see ``internal.pending``) the user is already anonymous to every
view (the auth keys are not in the session). This middleware sends page requests to the MFA step,
keeping ``next``; the app's own pages and API, logout and static files pass through. Sessions of
sites that require MFA are sent to enrollment until the user has a credential.
"""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from .internal import pending
from .internal.login import ENROLL_REQUIRED_KEY


class MFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        redirect = self.redirect_for(request)
        if redirect is not None:
            return redirect
        return self.get_response(request)

    def redirect_for(self, request: HttpRequest) -> HttpResponse | None:
        if request.method not in ("GET", "HEAD") or not _accepts_html(request) or self.is_exempt(request):
            return None
        if pending.get(request) is not None:
            return _redirect("pushmfa:authenticate", request)
        if request.session.get(ENROLL_REQUIRED_KEY) if hasattr(request, "session") else False:
            from .services import has_active_mfa

            if request.user.is_authenticated and not has_active_mfa(request.user):
                return _redirect("pushmfa:account", request)
            request.session.pop(ENROLL_REQUIRED_KEY, None)
        return None

    def is_exempt(self, request: HttpRequest) -> bool:
        path = request.path_info
        prefixes = [_safe_reverse("pushmfa:authenticate").rsplit("/", 2)[0] + "/"]
        static_url = getattr(settings, "STATIC_URL", None)
        if static_url and static_url.startswith("/"):
            prefixes.append(static_url)
        for name in ("logout", "admin:logout"):
            url = _safe_reverse(name)
            if url != "/":
                prefixes.append(url)
        prefixes.extend(getattr(settings, "PUSHMFA_EXEMPT_PATHS", []))
        return any(path.startswith(p) for p in prefixes if p and p != "/")


def _accepts_html(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return not accept or "text/html" in accept or "*/*" in accept and "application/json" not in accept


def _safe_reverse(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return "/"


def _redirect(name: str, request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
