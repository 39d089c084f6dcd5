"""An adapter that gives app clients a djangorestframework-simplejwt pair once their login completes.

``PUSHMFA_ADAPTER = "django_pushmfa.contrib.simplejwt.SimpleJWTAdapter"`` (or mix
:class:`SimpleJWTTokensMixin` into your own adapter). The answer that completes an app client's login
(``approved`` after the MFA step, or ``authenticated`` for a user without MFA) then carries
``"tokens": {"access": "...", "refresh": "..."}``; the site's views authenticate them with
simplejwt's ``JWTAuthentication`` and refresh them with its ``TokenRefreshView``. A pending login
never gets a token: the pair exists only after the second factor.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ..adapter import DefaultMFAAdapter


class SimpleJWTTokensMixin:
    """``get_app_tokens``: a fresh simplejwt refresh/access pair for the user."""

    def get_app_tokens(self, request: HttpRequest, user: Any) -> dict[str, Any] | None:
        from rest_framework_simplejwt.tokens import RefreshToken

        refresh = RefreshToken.for_user(user)
        return {"access": str(refresh.access_token), "refresh": str(refresh)}


class SimpleJWTAdapter(SimpleJWTTokensMixin, DefaultMFAAdapter):
    """The default adapter, plus a simplejwt pair for app clients."""
