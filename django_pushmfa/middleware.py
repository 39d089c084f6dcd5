"""``MFAMiddleware``: place it right after ``AuthenticationMiddleware``.

While a session is "MFA pending" (see ``internal.pending``) the user is already anonymous to every
view (the auth keys are not in the session). This middleware sends page requests to the MFA step,
keeping ``next``; the app's own pages and API, logout and static files pass through. Sessions of
sites that require MFA are sent to enrollment until the user has a credential. And a request on which
``authenticate()`` accepted the password of a user with MFA without a ``login()`` following (a view
that checks a password by hand) is answered ``403`` instead of what the view made (see
``internal.password_step``).

It also ends sessions: a logged-in session whose "Your sessions" record was ended (signed out from
elsewhere, or by recovery) is logged out before the view runs (``internal.sessions.check``), and it
keeps the request being served at hand for recovery (``internal.recovery.current_request``).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from .app_settings import app_settings
from .internal import pending, recovery, sessions
from .internal.login import ENROLL_REQUIRED_KEY
from .internal.password_step import PASSWORD_STEP_ATTR, refuse_password_only

logger = logging.getLogger("django_pushmfa")


class MFAMiddleware:
    """Sends page requests of an "MFA pending" session to the MFA step (see the module docstring).

    Sync and async capable, so an ASGI site keeps async views (the async push poll) truly async.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        token = recovery.current_request.set(request)
        try:
            end_ended_session(request)
            redirect = self.redirect_for(request)
            if redirect is not None:
                return redirect
            return self.withhold_password_only(request, self.get_response(request))
        finally:
            recovery.current_request.reset(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        token = recovery.current_request.set(request)
        try:
            session = getattr(request, "session", None)
            if session is not None and await _session_aget(session, SESSION_KEY):
                await sync_to_async(end_ended_session)(request)
            # Only page navigations can be redirected; everything else passes without touching the session.
            if request.method in ("GET", "HEAD") and _accepts_html(request):
                redirect = await sync_to_async(self.redirect_for)(request)
                if redirect is not None:
                    return redirect
            response = await self.get_response(request)
            if getattr(request, PASSWORD_STEP_ATTR, None) is None:
                return response
            return await sync_to_async(self.withhold_password_only)(request, response)
        finally:
            recovery.current_request.reset(token)

    def withhold_password_only(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """``403`` instead of ``response`` when a view got a user with MFA from ``authenticate()``
        and never called ``login()`` (which would have started the MFA step): whatever the view
        answered — a token, the account's data — was made on a password alone."""
        user_id = getattr(request, PASSWORD_STEP_ATTR, None)
        if user_id is None:
            return response
        delattr(request, PASSWORD_STEP_ATTR)
        from django.contrib.auth import get_user_model

        logger.error(
            "pushmfa: %s authenticated a user with MFA by password and did not call login(); "
            "its response was withheld (see pushmfa.W010 and docs/security.md)",
            request.path,
        )
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        if user is not None:
            refuse_password_only(user, request, stage="response")
        return HttpResponseForbidden(b"", content_type="text/plain")

    def redirect_for(self, request: HttpRequest) -> HttpResponse | None:
        """Where a page request of a pending (or must-enroll) session goes instead; None to pass."""
        if request.method not in ("GET", "HEAD") or not _accepts_html(request):
            return None
        session = getattr(request, "session", None)
        if session is None:
            return None
        if pending.get(request) is not None:
            return None if self.is_exempt(request) else _redirect("pushmfa:authenticate", request)
        if session.get(ENROLL_REQUIRED_KEY):
            from .services import has_active_mfa

            if request.user.is_authenticated and not has_active_mfa(request.user):
                return None if self.is_exempt(request) else _redirect("pushmfa:account", request)
            session.pop(ENROLL_REQUIRED_KEY, None)
        return None

    def is_exempt(self, request: HttpRequest) -> bool:
        """The app's own pages and API, logout, static files and ``PUSHMFA_EXEMPT_PATHS`` pass through."""
        path = request.path_info
        if _is_app_url(request):
            return True
        prefixes: list[str] = []
        static_url = getattr(settings, "STATIC_URL", None)
        if static_url and static_url.startswith("/"):
            prefixes.append(static_url)
        for name in ("logout", "admin:logout"):
            url = _safe_reverse(name)
            if url != "/":
                prefixes.append(url)
        prefixes.extend(app_settings.EXEMPT_PATHS or [])
        return any(path.startswith(p) for p in prefixes if p and p != "/")


def _has_login(request: HttpRequest) -> bool:
    session = getattr(request, "session", None)
    return session is not None and bool(session.get(SESSION_KEY))


def end_ended_session(request: HttpRequest) -> None:
    """Log out a logged-in session whose record was ended (see ``internal.sessions``)."""
    if _has_login(request) and not sessions.check(request):
        logout(request)


def _is_app_url(request: HttpRequest) -> bool:
    # Resolved rather than prefix-matched: the app may be mounted at the site's root.
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return "pushmfa" in match.app_names or "pushmfa" in match.namespaces


def _accepts_html(request: HttpRequest) -> bool:
    """A page navigation: the client asks for HTML (browsers always do), not an API/fetch call."""
    if request.headers.get("Sec-Fetch-Dest") == "document":
        return True
    return "text/html" in request.headers.get("Accept", "")


def _safe_reverse(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return "/"


def _redirect(name: str, request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")


async def _session_aget(session: Any, key: str) -> Any:
    """``session.aget(key)`` (Django 5.0+), or the sync read in a thread on Django 4.2."""
    aget = getattr(session, "aget", None)
    return await aget(key) if aget is not None else await sync_to_async(session.get)(key)
