"""An adapter that gives app clients a djangorestframework-simplejwt pair once their login completes.

``PUSHMFA_ADAPTER = "django_pushmfa.contrib.simplejwt.SimpleJWTAdapter"`` (or mix
:class:`SimpleJWTTokensMixin` into your own adapter). The answer that completes an app client's login
(``approved`` after the MFA step, or ``authenticated`` for a user without MFA) then carries
``"tokens": {"access": "...", "refresh": "..."}``; the site's views authenticate them with
:class:`JWTAuthentication` (simplejwt's, bound to the login's session) and refresh them with
simplejwt's ``TokenRefreshView``. A pending login never gets a token: the pair exists only after the
second factor.

The pair carries the login's session record (claim ``pushmfa_session``, copied into every access
token refreshed from it), and :class:`JWTAuthentication` refuses a token whose session has ended:
logging the app session out, "sign out everywhere else", ending it under "Your sessions" and an MFA
reset all end its tokens too, as they end cookie and ``X-Session-Token`` sessions. A token without
the claim (issued by other means) is treated as simplejwt treats it.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..adapter import DefaultMFAAdapter
from ..internal import app_sessions, sessions

SESSION_CLAIM = "pushmfa_session"


class SimpleJWTTokensMixin:
    """``get_app_tokens``: a fresh simplejwt refresh/access pair for the user, bound to the login's session."""

    def get_app_tokens(self, request: HttpRequest, user: Any) -> dict[str, Any] | None:
        from rest_framework_simplejwt.tokens import RefreshToken

        refresh = RefreshToken.for_user(user)
        # The app session's record (the answer is made after the session is taken off the request).
        record = app_sessions.app_session(request).get(sessions.RECORD_KEY)
        if record:
            refresh[SESSION_CLAIM] = record  # copied into the access tokens made from it
        return {"access": str(refresh.access_token), "refresh": str(refresh)}


class SimpleJWTAdapter(SimpleJWTTokensMixin, DefaultMFAAdapter):
    """The default adapter, plus a simplejwt pair for app clients."""


def _jwt_authentication_base() -> Any:
    from rest_framework_simplejwt.authentication import JWTAuthentication as Base

    return Base


class JWTAuthentication(_jwt_authentication_base()):  # type: ignore[misc]  # simplejwt is an optional extra
    """simplejwt's ``JWTAuthentication``, refusing tokens whose login session has ended."""

    def get_user(self, validated_token: Any) -> Any:
        from rest_framework_simplejwt.exceptions import AuthenticationFailed

        user = super().get_user(validated_token)
        record = validated_token.get(SESSION_CLAIM)
        if record is not None and not sessions.record_is_open(record, user.pk):
            raise AuthenticationFailed(_("This sign-in has ended."), code="session_ended")
        return user
