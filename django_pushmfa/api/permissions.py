"""Who may call which endpoint: browsers mid-login, fully logged-in users, signed devices."""
from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..exceptions import MFANotInProgress
from ..internal import app_sessions, pending
from .exceptions import APIError, MFARequired, ReauthenticationRequiredError


def enforce_csrf(request: Any) -> None:
    """CSRF check for session-cookie requests, also when the user is still anonymous (mid-login).

    Not for an app client's request (``X-Session-Token``: its session is the header's, never the cookie's)."""
    if request.method in SAFE_METHODS or app_sessions.is_app_request(request._request):
        return

    def dummy_get_response(_request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
        raise AssertionError("the CSRF check never calls the view")

    check = CsrfViewMiddleware(dummy_get_response)
    check.process_request(request._request)
    # The callback is read only for ``csrf_exempt`` (DRF's own check passes None): the dummy has none.
    reason = check.process_view(request._request, dummy_get_response, (), {})
    if reason:
        raise APIError("csrf_failed", "CSRF verification failed.", 403)


def pending_user(request: Any) -> Any:
    """The user of this session's pending login (after :class:`HasPendingLogin`); a vanished or
    deactivated user ends the login (``mfa_not_in_progress``)."""
    user = request.pending_login.get_user()
    if user is None:
        pending.clear(request._request)
        raise MFANotInProgress()
    return user


class HasPendingLogin(BasePermission):
    """The session did the password step and awaits its second factor (``mfa_not_in_progress``)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        state = pending.get(request._request)
        if state is None:
            raise MFANotInProgress()
        enforce_csrf(request)
        request.pending_login = state
        return True


class IsFullyAuthenticated(BasePermission):
    """A logged-in user whose MFA step is done; a pending session gets ``mfa_required``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if pending.get(request._request) is not None:
            raise MFARequired()
        if not (request.user and request.user.is_authenticated):
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated()
        return True


class RecentlyAuthenticated(IsFullyAuthenticated):
    """A fully logged-in user whose session authenticated within ``PUSHMFA_REAUTH_WINDOW`` (step-up).

    Otherwise ``403 {"code": "reauthentication_required", "reauthenticate_url": ...}``. Host sites put
    it on their own sensitive DRF views; the app's credential changes use it (``CredentialChangeAPIView``).
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        super().has_permission(request, view)
        from ..internal import reauth

        # An app client's X-Session-Token session (SessionTokenAuthentication's request.auth) is the one
        # whose stamp counts; is_recent refuses a stamp of a session logged in as someone else.
        token_session = request.auth if isinstance(request.auth, SessionBase) else None
        if not reauth.is_recent(request._request, token_session):
            raise ReauthenticationRequiredError(reauth.reauthenticate_url())
        return True
