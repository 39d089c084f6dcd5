"""App clients (SPAs, the site's own mobile apps): the password step and logout without cookies.

Contract: docs/api-contract.md, "App clients". ``POST api/app/login/`` runs the site's real login
(``authenticate()`` then ``login()``, so an enrolled user's session becomes MFA pending exactly as
after a browser's password step) in a new server-side session whose key the client then sends as
``X-Session-Token``; every other endpoint takes that header through the base views'
:class:`~django_pushmfa.api.authentication.AppSessionAuthentication`.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ..adapter import get_adapter
from ..internal import app_sessions, login_throttle, methods, pending
from ..internal.login import ENROLL_REQUIRED_KEY
from ..internal.password_step import password_login_flow
from . import serializers as ser
from .authentication import APP_SESSION, AppSessionAuthentication
from .base import PushMFAAPIView
from .exceptions import APIError
from .schema import error_responses, extend_schema

# Longest username / password looked at; longer ones are invalid_credentials without hashing megabytes.
CREDENTIAL_MAX_LENGTH = 4096


def invalid_credentials() -> APIError:
    return APIError("invalid_credentials", _("The username or password is not correct."), 400)


class AppLoginView(PushMFAAPIView):
    """``POST api/app/login/`` ``{"username", "password"}`` → ``{"status", "session_token", ...}``.

    The same ``400 invalid_credentials`` for an unknown user, a wrong password and an inactive user
    (Django's ``ModelBackend`` runs the password hasher for unknown users too, so the time taken does
    not tell them apart); failures are rate limited per username and per IP (``429`` with
    ``Retry-After``). The session is always a new one: a cookie or token the caller holds is ignored.
    """

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="app_login",
        summary="Password step of an app client; the answer's session_token goes in X-Session-Token",
        request=ser.AppLoginSerializer,
        responses={200: ser.AppLoginResultSerializer, **error_responses(400, 429, 503)},
        tags=["app"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(request, ser.AppLoginSerializer)
        username, password = data["username"], data["password"]
        django_request = request._request
        ip = get_adapter().get_client_ip(django_request)
        login_throttle.reserve(username, ip)  # counted now; given back below when the password is right
        if len(username) > CREDENTIAL_MAX_LENGTH or len(password) > CREDENTIAL_MAX_LENGTH:
            raise invalid_credentials()
        # A new session from here on; finalize_response saves it and the answer gets its key.
        app_sessions.attach(django_request, app_sessions.new_session(), None)
        # The password step's gate (internal.password_step) hands an enrolled user to this view only
        # because login() follows: it turns the session into an MFA pending one.
        with password_login_flow(request):
            user = authenticate(django_request, username=username, password=password)
            if user is None:
                raise invalid_credentials()
            login_throttle.release(username, ip)
            login(django_request, user)  # an enrolled user's session becomes MFA pending here
        return Response(login_answer(django_request, user))


def login_answer(request: Any, user: Any) -> dict[str, Any]:
    """The login's answer for the session ``login()`` left (its ``session_token`` is added on the way out)."""
    if pending.get(request) is not None:
        return {"status": "mfa_required", "methods": [o.as_json() for o in methods.get_mfa_options(user)]}
    answer: dict[str, Any] = {"status": "authenticated"}
    if request.session.get(ENROLL_REQUIRED_KEY):
        answer["enrollment_required"] = True
    return answer


class IsAppClient(BasePermission):
    """The request carries the ``X-Session-Token`` of an app session (``401 not_authenticated`` otherwise)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.auth != APP_SESSION:
            raise APIError("not_authenticated", _("Send the session token in the X-Session-Token header."), 401)
        return True


class AppLogoutView(PushMFAAPIView):
    """``POST api/app/logout/`` → ``204``: the session ends (a pending one too), its token stops working."""

    authentication_classes = [AppSessionAuthentication]
    permission_classes = [IsAppClient]

    @extend_schema(
        operation_id="app_logout",
        summary="End the app client's session",
        request=None,
        responses={204: None, **error_responses(401)},
        tags=["app"],
    )
    def post(self, request: Request) -> Response:
        logout(request._request)  # its user_logged_out ends the step's push (push.internal.flows)
        return Response(status=status.HTTP_204_NO_CONTENT)
